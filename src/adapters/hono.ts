import type { Context, MiddlewareHandler } from 'hono';
import { CsrfError, SessionError } from '../errors.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import { type CsrfGuardOptions, isSafeMethod, originAllowed } from '../lib/csrf-guard.ts';
import { sessionErrorResponse, withSessionHeaders } from '../lib/web-response.ts';
import type { RequestInfo, Sessions } from '../manager.ts';
import type { Session, SessionData } from '../session.ts';

/**
 * The lazy session getter: no store I/O until it is called.
 *
 * @example
 * ```ts
 * app.get('/', async (c) => { const load: LoadSession<MyData> = c.var.session; const s = await load(); return c.text(s.id); });
 * ```
 */
export type LoadSession<Data extends object> = () => Promise<Session<Data>>;

/**
 * Hono env for an app using tessera: `new Hono<SessionEnv<MyData>>()` types `c.var.session`.
 * (A generic env rather than a global `ContextVariableMap` augmentation, so each app's session
 * data keeps its own type.)
 *
 * @example
 * ```ts
 * const app = new Hono<SessionEnv<{ views: number }>>();
 * ```
 */
export interface SessionEnv<Data extends object = SessionData> {
  Variables: { session: LoadSession<Data> };
}

/**
 * Options of {@link sessionMiddleware}.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, { trustProxy: true }));
 * ```
 */
export interface HonoSessionOptions {
  /**
   * Trust `X-Forwarded-Proto`/`X-Forwarded-For` from a reverse proxy (`secure: 'auto'`, the
   * recorded IP). Default `false`: otherwise any client could claim HTTPS or an address.
   */
  readonly trustProxy?: boolean;
}

function errorResponse(_c: Context, err: SessionError): Response {
  return sessionErrorResponse(err);
}

function info(c: Context, trustProxy: boolean): RequestInfo {
  const proto = trustProxy ? c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() : undefined;
  const forwardedFor = trustProxy
    ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    : undefined;
  // @hono/node-server exposes the socket as c.env.incoming; other runtimes have their own.
  const socketIp = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)
    ?.incoming?.socket?.remoteAddress;
  return {
    cookie: c.req.header('cookie'),
    secure: proto ? proto === 'https' : new URL(c.req.url).protocol === 'https:',
    userAgent: c.req.header('user-agent'),
    ip: forwardedFor || socketIp,
  };
}

/**
 * Hono middleware: `c.var.session()` loads the session on first call; after the handler the
 * changes are committed (one store write) and the cookie headers added. A store failure
 * answers 503 `{ "error": "ERR_SESSION_STORE_UNAVAILABLE" }` and nothing is half-written.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { sessionMiddleware, type SessionEnv } from 'tessera-session/hono';
 *
 * const app = new Hono<SessionEnv<{ views: number }>>();
 * app.use(sessionMiddleware(sessions));
 * app.get('/', async (c) => {
 *   const session = await c.var.session();
 *   return c.text(`views: ${session.increment('views')}`);
 * });
 * ```
 */
export function sessionMiddleware<Data extends object>(
  sessions: Sessions<Data>,
  options: HonoSessionOptions = {},
): MiddlewareHandler<SessionEnv<Data>> {
  const { trustProxy = false } = options;
  return async function tesseraSession(c, next) {
    const rs = sessions.request(info(c, trustProxy));
    c.set('session', () => rs.session());
    await next();
    // Hono catches handler errors and renders them through onError; ours become their status,
    // and a failed request commits nothing.
    if (c.error) {
      if (c.error instanceof SessionError) c.res = errorResponse(c, c.error);
      return;
    }
    if (!rs.loaded) return;
    let headers: Awaited<ReturnType<typeof rs.commit>>['headers'];
    try {
      ({ headers } = await rs.commit({ status: c.res.status }));
    } catch (err) {
      c.res = errorResponse(c, asSessionError(err));
      return;
    }
    if (headers.length === 0) return;
    // Headers are added in place; `c.res` is assigned only when the response had to be copied
    // (immutable headers). Assigning makes Hono rebuild the response around its body as a
    // stream, which costs @hono/node-server its fast path for string bodies (a third of read
    // throughput in bench/).
    const res = withSessionHeaders(c.res, headers);
    if (res !== c.res) c.res = res;
  };
}

/**
 * Options of {@link csrfProtection}.
 *
 * @example
 * ```ts
 * app.use(csrfProtection({ trustedOrigins: ['https://admin.example.com'], onFailure: (c) => c.text('Forbidden', 403) }));
 * ```
 */
export interface HonoCsrfOptions extends CsrfGuardOptions {
  /** Behind a proxy: this app's origin from `X-Forwarded-Proto`/`X-Forwarded-Host`. Default `false`. */
  readonly trustProxy?: boolean;
  /** Render the refusal (default: 403 JSON `{ "error": "ERR_SESSION_CSRF" }`). */
  readonly onFailure?: (c: Context, err: CsrfError) => Response | Promise<Response>;
}

/**
 * CSRF protection for state-changing requests (POST, PUT, PATCH, DELETE): the origin must be
 * this app's (or trusted), and the request must carry `session.csrfToken()` in the
 * `x-csrf-token` header or the `_csrf` form field (urlencoded or multipart; Hono caches the
 * parsed body, so handlers can still call `c.req.parseBody()`). Use after `sessionMiddleware`.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions));
 * app.use(csrfProtection());
 * app.get('/form', async (c) => c.html(`<input type="hidden" name="_csrf" value="${(await c.var.session()).csrfToken()}">`));
 * ```
 */
export function csrfProtection<Data extends object>(
  options: HonoCsrfOptions = {},
): MiddlewareHandler<SessionEnv<Data>> {
  const {
    trustedOrigins = [],
    field = '_csrf',
    header = 'x-csrf-token',
    onFailure = errorResponse,
    trustProxy = false,
  } = options;
  return async function tesseraCsrf(c, next) {
    if (isSafeMethod(c.req.method)) return next();
    const fail = (message: string) => onFailure(c, new CsrfError(message));
    const url = new URL(c.req.url);
    const proto =
      (trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim()) ||
      url.protocol.slice(0, -1);
    const host =
      (trustProxy && c.req.header('x-forwarded-host')?.split(',')[0]?.trim()) || url.host;
    const self = `${proto}://${host}`;
    if (
      !originAllowed(
        { origin: c.req.header('origin'), secFetchSite: c.req.header('sec-fetch-site'), self },
        trustedOrigins,
      )
    ) {
      return fail('cross-origin request refused');
    }
    let token: unknown = c.req.header(header);
    const type = c.req.header('content-type') ?? '';
    if (
      token === undefined &&
      /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)
    ) {
      token = (await c.req.parseBody())[field];
    }
    const session = await c.var.session();
    if (!session.verifyCsrfToken(token)) return fail('missing or invalid CSRF token');
    return next();
  };
}

export {
  type FetchAdapterOptions,
  type FetchSessionHandler,
  withSessions,
} from './fetch.ts';
