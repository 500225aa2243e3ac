import { SessionError, SessionStateError } from '../errors.ts';
import { assertSessions } from '../http/load-session.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { Session } from '../session/session.ts';
import { type FetchAdapterOptions, type FetchSessionHandler, withSessions } from './fetch.ts';

/**
 * What the binding needs of `next/headers`' `headers()`: the incoming request's headers.
 *
 * @example
 * ```ts
 * import { headers } from 'next/headers';
 * const h: NextHeadersFn = headers;
 * ```
 */
export type NextHeadersFn = () => Promise<{ get(name: string): string | null }>;

/**
 * The options `cookies().set()` takes (Next's `ResponseCookie`), as far as tessera sets them.
 *
 * @example
 * ```ts
 * const o: NextCookieOptions = { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 3600 };
 * ```
 */
export interface NextCookieOptions {
  path?: string;
  domain?: string;
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none';
  partitioned?: boolean;
}

/**
 * What the binding needs of `next/headers`' `cookies()`: a store whose `set` writes a
 * `Set-Cookie` on the response (possible in server actions and route handlers; a server
 * component's store throws on `set`).
 *
 * @example
 * ```ts
 * import { cookies } from 'next/headers';
 * const c: NextCookiesFn = cookies;
 * ```
 */
export type NextCookiesFn = () => Promise<{
  set(name: string, value: string, options?: NextCookieOptions): unknown;
}>;

/**
 * Options of {@link nextSessions}: Next's own `cookies` and `headers` functions (passed in, so
 * tessera imports nothing from Next: no second copy of Next in your bundle, any Next version),
 * and the fetch adapter's `trustProxy`.
 *
 * @example
 * ```ts
 * import { cookies, headers } from 'next/headers';
 * nextSessions(sessions, { cookies, headers, trustProxy: true });
 * ```
 */
export interface NextSessionsOptions extends FetchAdapterOptions {
  /** `cookies` from `next/headers`. Required. */
  readonly cookies: NextCookiesFn;
  /** `headers` from `next/headers`. Required. */
  readonly headers: NextHeadersFn;
}

/**
 * Sessions for one Next.js App Router app. Make one, in one module (e.g. `lib/session.ts`), and
 * import it wherever a session is needed.
 *
 * @example
 * ```ts
 * export const session = nextSessions(sessions, { cookies, headers });
 * ```
 */
export interface NextSessions<Data extends object> {
  /**
   * Wrap a route handler (`app/**\/route.ts`) or the `proxy` (`proxy.ts`, formerly middleware):
   * Request in, Response out, the commit's headers added to the Response. Same as
   * `withSessions` from `tessera-session/fetch`.
   */
  route<Extra extends unknown[] = []>(
    handler: FetchSessionHandler<Data, Extra>,
  ): (request: Request, ...extra: Extra) => Promise<Response>;
  /**
   * Run `fn` with the session inside a server action (or a route handler that prefers
   * `cookies()`), then commit and set the cookie through `cookies().set()`. Next's `redirect()`
   * and `notFound()` thrown inside `fn` commit first, then propagate; any other error commits
   * nothing (a failed action saves nothing) and propagates. A store failure rejects with its
   * `SessionStoreError` (503): let it reach an `error.tsx` boundary.
   */
  action<T>(fn: (session: Session<Data>) => T | Promise<T>): Promise<T>;
  /**
   * Read the session in a server component. Read-only: a server component cannot set cookies,
   * so nothing is committed. Changes made to the returned session are lost, idle expiry is not
   * extended, and `flashes()` read here are not removed: touch the session in `proxy.ts`
   * (sliding expiry) and take flashes there or in an action (see docs/adapters/next.md).
   */
  read(): Promise<Session<Data>>;
}

// Next's control-flow errors carry a `digest` naming them (redirect(), notFound(), forbidden(),
// unauthorized()): a redirect after login must still save the login.
function isNextControlFlow(err: unknown): boolean {
  const digest = (err as { digest?: unknown } | null)?.digest;
  return (
    typeof digest === 'string' &&
    (digest.startsWith('NEXT_REDIRECT') || digest.startsWith('NEXT_HTTP_ERROR_FALLBACK'))
  );
}

const SAME_SITE = { lax: 'lax', strict: 'strict', none: 'none' } as const;

/** A `Set-Cookie` value as `cookies().set()` arguments (tessera writes only these attributes). */
function parseSetCookie(
  line: string,
): { name: string; value: string; options: NextCookieOptions } | null {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return null;
  const options: NextCookieOptions = {};
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? '' : attribute.slice(at + 1).trim();
    if (key === 'path') options.path = value;
    else if (key === 'domain') options.domain = value;
    else if (key === 'max-age') options.maxAge = Number(value);
    else if (key === 'expires') options.expires = new Date(value);
    else if (key === 'httponly') options.httpOnly = true;
    else if (key === 'secure') options.secure = true;
    else if (key === 'partitioned') options.partitioned = true;
    else if (key === 'samesite') {
      const s = SAME_SITE[value.toLowerCase() as keyof typeof SAME_SITE];
      if (s) options.sameSite = s;
    }
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), options };
}

/**
 * Next.js App Router binding. Route handlers and `proxy.ts` get `route()` (Request/Response, as
 * the fetch adapter); server actions get `action()`, which commits through `cookies().set()`;
 * server components get `read()`, read-only (they cannot set cookies).
 *
 * @example
 * ```ts
 * // lib/session.ts
 * import { cookies, headers } from 'next/headers';
 * import { createSessions } from 'tessera-session';
 * import { sqliteStore } from 'tessera-session/sqlite';
 * import { nextSessions } from 'tessera-session/next';
 *
 * const sessions = createSessions<{ views: number }>({
 *   secrets: [process.env.SESSION_SECRET!],
 *   store: sqliteStore({ path: 'sessions.db' }),
 * });
 * export const session = nextSessions(sessions, { cookies, headers });
 * // or nextSessions(() => createSessions(…), …): created on the first request, so `next build`
 * // needs neither the secret nor the store.
 *
 * // app/actions.ts ('use server')
 * export async function login(form: FormData) {
 *   await session.action((s) => s.login(String(form.get('user'))));
 *   redirect('/dashboard');
 * }
 * ```
 */
export function nextSessions<Data extends object>(
  sessions: Sessions<Data> | (() => Sessions<Data>),
  options: NextSessionsOptions,
): NextSessions<Data> {
  // A function is called on the first request, not at import: `next build` imports every route
  // module to collect its configuration, and should need neither the secret nor the store.
  let resolved: Sessions<Data> | null = null;
  const get = (): Sessions<Data> => {
    if (resolved) return resolved;
    const s = typeof sessions === 'function' ? sessions() : sessions;
    assertSessions(s, 'tessera-session/next: nextSessions(sessions, { cookies, headers })');
    return (resolved = s);
  };
  if (typeof sessions !== 'function') get();
  const { cookies, headers, trustProxy = false, clientIp } = options ?? ({} as NextSessionsOptions);
  if (typeof cookies !== 'function' || typeof headers !== 'function')
    throw new TypeError(
      "tessera-session/next: pass Next's own functions: import { cookies, headers } from 'next/headers'; nextSessions(sessions, { cookies, headers })",
    );
  const fetchOptions: FetchAdapterOptions = clientIp ? { trustProxy, clientIp } : { trustProxy };

  async function info(): Promise<RequestInfo> {
    const h = await headers();
    const first = (name: string) => h.get(name)?.split(',')[0]?.trim() || undefined;
    // Server actions have no Request object: the protocol and host come from the
    // x-forwarded-* headers, which `next start` itself sets from its socket for every request
    // (a client's own value is kept only when it sent one: deploy behind a proxy that sets them,
    // as Next's docs require for a public server). The address only under trustProxy.
    const proto = first('x-forwarded-proto');
    return {
      cookie: h.get('cookie'),
      headers: h,
      secure: proto === 'https',
      host: first('x-forwarded-host') ?? h.get('host') ?? undefined,
      userAgent: h.get('user-agent') ?? undefined,
      ip: trustProxy ? first('x-forwarded-for') : undefined,
    };
  }

  return {
    route<Extra extends unknown[] = []>(handler: FetchSessionHandler<Data, Extra>) {
      let wrapped: ((request: Request, ...extra: Extra) => Promise<Response>) | undefined;
      return function tesseraNextRoute(request: Request, ...extra: Extra) {
        wrapped ??= withSessions(get(), handler, fetchOptions);
        return wrapped(request, ...extra);
      };
    },
    async action(fn) {
      const rs = get().request(await info());
      // A server action can set cookies, not response headers: a header token it issued or
      // ended would never reach the client.
      if (rs.transport === 'header')
        throw new SessionStateError(
          'tessera-session/next: a server action carries the session in the cookie, not in the token header; call header-token APIs through route handlers (session.route()), or keep the cookie for browsers with token: { header, cookie: true }',
        );
      let result: Awaited<ReturnType<typeof fn>>;
      let control: unknown = null;
      try {
        result = await fn(await rs.session());
      } catch (err) {
        if (!isNextControlFlow(err) || err instanceof SessionError) throw err;
        control = err;
        result = undefined as typeof result;
      }
      const { headers: out } = await rs.commit();
      const jar = await cookies();
      for (const [name, value] of out) {
        if (name !== 'set-cookie') continue;
        const parsed = parseSetCookie(value);
        if (parsed) jar.set(parsed.name, parsed.value, parsed.options);
      }
      if (control) throw control;
      return result;
    },
    async read() {
      return get()
        .request(await info())
        .session();
    },
  };
}
