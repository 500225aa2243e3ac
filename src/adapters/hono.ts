import type { Context, MiddlewareHandler } from 'hono';
import { CsrfError, SessionError } from '../errors.ts';
import { type CsrfOptions, verifyCsrf } from '../http/csrf.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { sessionErrorResponse } from '../http/errors.ts';
import {
  type ForwardedFacts,
  ownOrigin,
  type TrustProxyOption,
  webForwarded,
} from '../http/forwarded.ts';
import { withSessionHeaders } from '../http/headers.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { SessionTransport } from '../lifecycle/transport.ts';
import type { SessionData } from '../session/types.ts';

export type { LoadSession } from '../http/load-session.ts';

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
export interface HonoSessionOptions extends TrustProxyOption {
  /**
   * Trust `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` from a reverse proxy
   * (`secure: 'auto'`, the recorded IP, the own origin `csrfProtection` compares with: set it
   * here once). Default `false`: otherwise any client could claim HTTPS, a host or an address.
   */
  readonly trustProxy?: boolean;
}

function errorResponse(_c: Context, err: SessionError): Response {
  return sessionErrorResponse(err);
}

/**
 * The facts sessionMiddleware read for a request, for csrfProtection on the same request: a
 * symbol on the context, not a WeakMap (a WeakMap entry per request costs garbage-collection
 * work on every request; see express.ts).
 */
const kFacts = Symbol('tessera.facts');
/** The request's session, for csrfProtection: how its token travels (a header token: no check). */
const kSession = Symbol('tessera.session');
type WithFacts = Context & {
  [kFacts]?: ForwardedFacts;
  [kSession]?: { readonly transport: SessionTransport };
};

function forwarded(c: Context, options: TrustProxyOption): ForwardedFacts {
  // @hono/node-server exposes the socket as c.env.incoming; other runtimes have their own.
  const ip = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
    ?.socket?.remoteAddress;
  return webForwarded(c.req.raw, { ...options, ip });
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
  assertSessions(sessions, 'tessera-session/hono: sessionMiddleware(sessions)');
  const read = (c: Context): RequestInfo => {
    const f = forwarded(c, options);
    (c as WithFacts)[kFacts] = f;
    return {
      cookie: c.req.header('cookie'),
      headers: c.req.raw.headers,
      secure: f.secure,
      host: f.host,
      userAgent: c.req.header('user-agent'),
      ip: f.ip,
    };
  };
  return async function tesseraSession(c, next) {
    // Opened on first use: a route that never loads its session reads no header (in
    // @hono/node-server, the first header read builds the request's Headers object).
    const rs = new DeferredSession(sessions, c, read);
    (c as WithFacts)[kSession] = rs;
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
export interface HonoCsrfOptions extends CsrfOptions {
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
  const { field = '_csrf', header = 'x-csrf-token', onFailure = errorResponse } = options;
  return async function tesseraCsrf(c, next) {
    const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i;
    // Asking how the token travels opens the request, which reads sessionMiddleware's facts
    // (and trustProxy) into kFacts: so first the transport, then the facts.
    const transport = (c as WithFacts)[kSession]?.transport ?? 'cookie';
    const facts = (c as WithFacts)[kFacts] ?? forwarded(c, {});
    try {
      await verifyCsrf(
        {
          method: c.req.method,
          transport,
          self: ownOrigin(facts),
          origin: c.req.header('origin'),
          secFetchSite: c.req.header('sec-fetch-site'),
          referer: c.req.header('referer'),
        },
        async () =>
          c.req.header(header) ??
          (FORM.test(c.req.header('content-type') ?? '')
            ? (await c.req.parseBody())[field]
            : undefined),
        () => c.var.session(),
        options,
      );
    } catch (err) {
      if (err instanceof CsrfError) return onFailure(c, err);
      throw err;
    }
    return next();
  };
}

export {
  type FetchAdapterOptions,
  type FetchSessionHandler,
  withSessions,
} from './fetch.ts';
