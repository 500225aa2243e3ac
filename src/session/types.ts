/** The public types of session data (what `createSessions<MyData>()` and the adapters take). */

/**
 * The shape of a session's data: declare yours and pass it to `createSessions<MyData>()`.
 *
 * @example
 * ```ts
 * interface MyData { cart: string[]; lang: 'en' | 'fr' }   // any interface works
 * const sessions = createSessions<MyData>({ secrets, store });
 * ```
 */
export type SessionData = Record<string, unknown>;

/**
 * Declare your session data once for the adapters that type the request by declaration merging
 * (Express's `req.session()`, Fastify's `request.session()`): add a `data` member.
 *
 * @example
 * ```ts
 * declare module 'tessera-session' {
 *   interface SessionTypes { data: { views: number; cart: string[] } }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an empty interface is what users augment.
export interface SessionTypes {}

/**
 * The data type declared in {@link SessionTypes}, or {@link SessionData} when none is.
 *
 * @example
 * ```ts
 * const load: () => Promise<Session<AppSessionData>> = req.session;
 * ```
 */
export type AppSessionData = SessionTypes extends { data: infer D extends object }
  ? D
  : SessionData;

/** @internal */
export type KeyOf<D> = Extract<keyof D, string>;
/**
 * Keys of `D` whose values are arrays (the targets of `push`/`pull`).
 *
 * @example
 * ```ts
 * type Lists = ArrayKeys<{ cart: string[]; lang: string }>; // 'cart'
 * ```
 */
export type ArrayKeys<D> = {
  [K in KeyOf<D>]-?: NonNullable<D[K]> extends readonly unknown[] ? K : never;
}[KeyOf<D>];
/**
 * Keys of `D` whose values are numbers (the targets of `increment`).
 *
 * @example
 * ```ts
 * type Counters = NumberKeys<{ views: number; lang: string }>; // 'views'
 * ```
 */
export type NumberKeys<D> = {
  [K in KeyOf<D>]-?: NonNullable<D[K]> extends number ? K : never;
}[KeyOf<D>];
/** @internal */
export type ElementOf<T> = NonNullable<T> extends readonly (infer E)[] ? E : never;

/**
 * A flash message: shown once, on the next page that reads it.
 *
 * @example
 * ```ts
 * session.flash('success', 'Saved');
 * // next request:
 * for (const { type, message } of session.flashes()) html += `<p class="${type}">${message}</p>`;
 * ```
 */
export interface Flash {
  readonly type: string;
  readonly message: string;
}
