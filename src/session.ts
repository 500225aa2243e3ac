import { SessionStateError } from './errors.ts';
import { csrfTokenMatches, maskCsrfSecret, newCsrfSecret } from './lib/csrf.ts';
import { cloneJson, copyJson } from './lib/json.ts';
import { applyOp } from './lib/ops.ts';
import type { AtomicOp, JsonValue, SessionRecord } from './store.ts';

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

type KeyOf<D> = Extract<keyof D, string>;
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
type ElementOf<T> = NonNullable<T> extends readonly (infer E)[] ? E : never;

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

/** What one request changed about one key. */
export type Change =
  | { readonly kind: 'set'; readonly value: JsonValue }
  | { readonly kind: 'unset' }
  | { readonly kind: 'ops'; readonly ops: AtomicOp[] };

/**
 * A session's state during one request, shared between the {@link Session} the handler sees and
 * the manager that commits it.
 * @internal
 */
export interface SessionState {
  /** The record as loaded; `null` for a new session. */
  readonly record: SessionRecord | null;
  /** The current view: loaded data with this request's changes applied. */
  data: Record<string, JsonValue>;
  readonly changes: Map<string, Change>;
  /** Current token and key; a new session gets them on first need. */
  token: string | null;
  key: string | null;
  userId: string | null;
  userChanged: boolean;
  regenerate: boolean;
  destroyed: false | 'destroy' | 'logout';
  committed: boolean;
  readonly now: number;
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  /** Gives the state a token and key (the manager's token scheme). */
  readonly issue: (state: SessionState) => void;
}

const FLASH = '$flash';
const CSRF = '$csrf';

function isUserKey(key: string): boolean {
  return key.charCodeAt(0) !== 36; /* $ */
}

/**
 * One visitor's session during one request. Reads and writes are synchronous and local; the
 * manager writes the changes (only them, as a delta) once, after the handler, before the
 * response is sent.
 *
 * Values are JSON. `get` returns a copy, so changing a returned object in place changes nothing:
 * `set` it back, or use the atomic `push`/`pull`/`increment`, which also keep every change when
 * two requests of one session run at once.
 *
 * @example
 * ```ts
 * const session = await req.session();
 * session.push('cart', productId);            // atomic: two tabs adding both count
 * session.set('lang', 'fr');
 * session.flash('success', 'Added to cart');
 * if (ok) session.login(user.id);               // new token, user bound
 * ```
 */
export class Session<Data extends object = SessionData> {
  readonly #s: SessionState;

  /** @internal Sessions are made by the manager: `await sessions.request(…).session()`. */
  constructor(state: SessionState) {
    this.#s = state;
  }

  /**
   * The session's public id: the SHA-256 of its token, as the store keys it. Safe to show, log
   * and use in "revoke this session" forms; it cannot be turned back into a cookie.
   */
  get id(): string {
    if (this.#s.key === null) this.#s.issue(this.#s);
    return this.#s.key!;
  }

  /** The bound user, or `null` for an anonymous session. */
  get userId(): string | null {
    return this.#s.userId;
  }

  /** True when no stored session came with the request (first visit, or the old one was dead). */
  get isNew(): boolean {
    return this.#s.record === null;
  }

  /** When the session was created (epoch ms). */
  get createdAt(): number {
    // A regenerated session is a new session: its clock (and absolute timeout) restarts.
    return this.#s.record && !this.#s.regenerate ? this.#s.record.createdAt : this.#s.now;
  }

  /** When the session will expire if unused from now on (epoch ms): idle and absolute timeouts. */
  get expiresAt(): number {
    const s = this.#s;
    const absolute =
      s.record && !s.regenerate ? s.record.absoluteExpiresAt : this.createdAt + s.absoluteTimeout;
    return Math.min(s.now + s.idleTimeout, absolute);
  }

  /** A copy of the value at `key`, or `undefined`. */
  get<K extends KeyOf<Data>>(key: K): Data[K] | undefined {
    const value = this.#s.data[key];
    return (value === undefined ? undefined : cloneJson(value)) as Data[K] | undefined;
  }

  has(key: KeyOf<Data>): boolean {
    return this.#s.data[key] !== undefined;
  }

  /** Set `key`. Throws a TypeError now for anything JSON cannot carry back faithfully. */
  set<K extends KeyOf<Data>>(key: K, value: Data[K]): this {
    this.#writable(key);
    const copy = copyJson(value, key);
    this.#s.data[key] = copy;
    this.#s.changes.set(key, { kind: 'set', value: copy });
    return this;
  }

  /** Remove `key`; `true` when it was there. */
  delete(key: KeyOf<Data>): boolean {
    this.#writable(key);
    const had = this.#s.data[key] !== undefined;
    delete this.#s.data[key];
    this.#s.changes.set(key, { kind: 'unset' });
    return had;
  }

  /** Remove every key (the session itself, its user and its flash messages stay). */
  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }

  keys(): KeyOf<Data>[] {
    return Object.keys(this.#s.data).filter(isUserKey) as KeyOf<Data>[];
  }

  entries(): [KeyOf<Data>, Data[KeyOf<Data>]][] {
    return this.keys().map((key) => [key, this.get(key) as Data[KeyOf<Data>]]);
  }

  /** Append to the list at `key`, atomically in the store (a missing value becomes a list). */
  push<K extends ArrayKeys<Data>>(key: K, ...values: ElementOf<Data[K]>[]): this {
    this.#writable(key);
    this.#op({ op: 'push', key, values: values.map((v, i) => copyJson(v, `${key}[+${i}]`)) });
    return this;
  }

  /** Remove every element equal to one of `values` from the list at `key`, atomically. */
  pull<K extends ArrayKeys<Data>>(key: K, ...values: ElementOf<Data[K]>[]): this {
    this.#writable(key);
    this.#op({ op: 'pull', key, values: values.map((v, i) => copyJson(v, `${key}[-${i}]`)) });
    return this;
  }

  /** Add `by` (default 1) to the number at `key`, atomically; returns the value as this request sees it. */
  increment(key: NumberKeys<Data>, by = 1): number {
    this.#writable(key);
    if (!Number.isFinite(by))
      throw new TypeError(`increment: by must be a finite number; got ${by}`);
    this.#op({ op: 'increment', key, by });
    return this.#s.data[key] as number;
  }

  /** Queue a message for the next page that calls {@link flashes}. */
  flash(type: string, message: string): this {
    this.#live();
    this.#op({
      op: 'push',
      key: FLASH,
      values: [{ type: String(type), message: String(message) }],
    });
    return this;
  }

  /** The queued flash messages (of one `type`, or all), removed as they are read. */
  flashes(type?: string): Flash[] {
    this.#live();
    const all = this.#s.data[FLASH];
    if (!Array.isArray(all) || all.length === 0) return [];
    const picked = (all as unknown as Flash[]).filter((f) => type === undefined || f.type === type);
    if (picked.length > 0)
      this.#op({ op: 'pull', key: FLASH, values: picked as unknown as JsonValue[] });
    return picked.map((f) => ({ type: f.type, message: f.message }));
  }

  /**
   * A CSRF token for a form or header: a fresh mask of the session's CSRF secret, different on
   * every call. Creates the secret (and so the stored session) on first use.
   */
  csrfToken(): string {
    this.#live();
    let secret = this.#s.data[CSRF];
    if (typeof secret !== 'string') {
      secret = newCsrfSecret();
      this.#s.data[CSRF] = secret;
      this.#s.changes.set(CSRF, { kind: 'set', value: secret });
    }
    return maskCsrfSecret(secret);
  }

  /** Does `token` (from a form field or header) belong to this session? Constant-time. */
  verifyCsrfToken(token: unknown): boolean {
    const secret = this.#s.data[CSRF];
    return typeof secret === 'string' && csrfTokenMatches(token, secret);
  }

  /**
   * Issue a new token for this session and kill the old one at commit; data is kept. Do it
   * whenever privilege changes (login does it for you) to defeat session fixation.
   */
  regenerate(): this {
    this.#live();
    const s = this.#s;
    s.regenerate = true;
    s.token = null;
    s.key = null;
    return this;
  }

  /** Bind `userId`: always regenerates, and gives the session a new CSRF secret. */
  login(userId: string): this {
    if (typeof userId !== 'string' || userId.length === 0) {
      throw new TypeError('login(userId): userId must be a non-empty string');
    }
    this.regenerate();
    const s = this.#s;
    s.userId = userId;
    s.userChanged = true;
    if (s.data[CSRF] !== undefined) {
      delete s.data[CSRF];
      s.changes.set(CSRF, { kind: 'unset' });
    }
    return this;
  }

  /** End the session on the server and expire the cookie (same as {@link destroy}, audited as a logout). */
  logout(): void {
    this.#end('logout');
  }

  /** Delete the session from the store and expire the cookie. Later changes in this request throw. */
  destroy(): void {
    this.#end('destroy');
  }

  #end(reason: 'destroy' | 'logout'): void {
    if (this.#s.committed)
      throw new SessionStateError('the session was already committed for this request');
    const s = this.#s;
    s.destroyed = reason;
    s.data = {};
    s.changes.clear();
  }

  #op(op: AtomicOp): void {
    const s = this.#s;
    const key = op.key;
    const next = applyOp(s.data[key], op);
    if (next === undefined) delete s.data[key];
    else s.data[key] = next;
    const change = s.changes.get(key);
    // A key already set or deleted in this request has a known value: keep it a plain set.
    if (change && change.kind !== 'ops') {
      s.changes.set(key, next === undefined ? { kind: 'unset' } : { kind: 'set', value: next });
    } else if (change) change.ops.push(op);
    else s.changes.set(key, { kind: 'ops', ops: [op] });
  }

  #live(): void {
    if (this.#s.committed) {
      throw new SessionStateError(
        'the session was committed for this request (the response is on its way); change it before responding',
      );
    }
    if (this.#s.destroyed) throw new SessionStateError('the session was destroyed in this request');
  }

  #writable(key: string): void {
    this.#live();
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError('session keys must be non-empty strings');
    if (!isUserKey(key))
      throw new TypeError(
        `session keys starting with "$" are reserved for tessera; rename ${JSON.stringify(key)}`,
      );
  }
}
