import type { Context, Middleware } from 'koa';
import { CsrfError, SessionConfigError, SessionError } from '../errors.ts';
import { type CsrfOptions, type CsrfVerifier, verifyCsrf } from '../http/csrf.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { renderSessionError } from '../http/errors.ts';
import { applySessionHeaders } from '../http/headers.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { RequestSession } from '../lifecycle/request-session.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { AppSessionData } from '../session/types.ts';

export type { LoadSession } from '../http/load-session.ts';

declare module 'koa' {
  interface DefaultContext {
    /**
     * Load this request's session (one store read on first call, the same object after).
     * Set by tessera's `sessionMiddleware`; typed by `declare module 'tessera-session' {
     * interface SessionTypes { data: MyData } }`.
     */
    session: LoadSession<AppSessionData>;
  }
}

/**
 * Each request's session (and whether its token came in a header), for csrfProtection: a symbol
 * on the context, not a WeakMap (see express.ts).
 */
const kSession = Symbol('tessera.session');
type WithSession = Context & {
  [kSession]?: {
    readonly transport: RequestSession['transport'];
    session(): Promise<CsrfVerifier>;
  };
};

/** The one answer to a session error, with the handler's headers dropped. */
function answer(ctx: Context, err: SessionError): void {
  const { status, headers, body } = renderSessionError(err);
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}

function read(ctx: Context): RequestInfo {
  return {
    cookie: ctx.get('cookie') || undefined,
    headers: ctx.req.headers,
    secure: ctx.secure,
    host: ctx.host || undefined,
    userAgent: ctx.get('user-agent') || undefined,
    ip: ctx.ip || undefined,
  };
}

/**
 * Koa middleware (Koa 2.15+ and 3): `ctx.session()` loads the session on first call. After
 * `await next()`, before Koa writes the response, the changes are committed (one store write)
 * with the response's status (a 5xx commits nothing) and the cookie headers added. A handler
 * that throws commits nothing: a `SessionError` (403 CSRF, 503 store down) is answered here as
 * JSON, anything else goes on to Koa's own error handling (500). Protocol, host and address
 * come from `ctx.secure`, `ctx.host` and `ctx.ip`, which follow Koa's `app.proxy` setting.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { createSessions, memoryStore } from 'tessera-session';
 * import { sessionMiddleware } from 'tessera-session/koa';
 *
 * const sessions = createSessions<{ views: number }>({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * const app = new Koa();
 * app.use(sessionMiddleware(sessions));
 * app.use(async (ctx) => {
 *   ctx.body = `views: ${(await ctx.session()).increment('views')}`;
 * });
 * app.listen(3000);
 * ```
 */
export function sessionMiddleware<Data extends object>(sessions: Sessions<Data>): Middleware {
  assertSessions(sessions, 'tessera-session/koa: sessionMiddleware(sessions)');
  return async function tesseraSession(ctx, next) {
    // Opened on first use: a route that never loads its session reads nothing of the request.
    const rs = new DeferredSession(sessions, ctx, read);
    const load = () => rs.session();
    ctx.session = load as unknown as LoadSession<AppSessionData>;
    (ctx as WithSession)[kSession] = rs;
    try {
      await next();
    } catch (err) {
      // The handler failed: nothing is committed.
      if (err instanceof SessionError) return answer(ctx, err);
      throw err;
    }
    if (!rs.loaded) return;
    try {
      const { headers } = await rs.commit({ status: ctx.status });
      applySessionHeaders(
        {
          get: (name) => ctx.response.get(name) || undefined,
          set: (name, value) => ctx.set(name, value),
          append: (name, value) => ctx.append(name, value),
        },
        headers,
      );
    } catch (err) {
      answer(ctx, asSessionError(err));
    }
  };
}

/**
 * Options of {@link csrfProtection}.
 *
 * @example
 * ```ts
 * app.use(csrfProtection({ trustedOrigins: ['https://admin.example.com'] }));
 * ```
 */
export interface KoaCsrfOptions extends CsrfOptions {
  /** Largest urlencoded body the guard reads itself when no body parser ran first. Default 1 MiB. */
  readonly bodyLimit?: number;
}

const FORM = /^application\/x-www-form-urlencoded\b/i;

async function formToken(ctx: Context, field: string, limit: number): Promise<unknown> {
  const request = ctx.request as { body?: unknown };
  if (request.body && typeof request.body === 'object')
    return (request.body as Record<string, unknown>)[field];
  // No parser ran: read the urlencoded body here and leave it parsed on ctx.request.body, where
  // the handler finds it (a multipart body: parse it before the guard, or send the header).
  if (!FORM.test(ctx.get('content-type')) || ctx.req.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new CsrfError('form body too large to read the CSRF token from');
    chunks.push(chunk);
  }
  const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  request.body = fields;
  return fields[field];
}

/**
 * CSRF protection for state-changing requests (POST, PUT, PATCH, DELETE): the `Origin` /
 * `Sec-Fetch-Site` (or, with neither, the `Referer`) must be this app's (`ctx.protocol` and
 * `ctx.host`, under `app.proxy`) or trusted, and the request must carry `session.csrfToken()` in the
 * `x-csrf-token` header or the `_csrf` field of an urlencoded form (parsed by a body parser
 * that ran first, or read here). A refusal throws `CsrfError`, which `sessionMiddleware`
 * answers 403 `ERR_SESSION_CSRF`. Use after `sessionMiddleware`.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions));
 * app.use(csrfProtection());
 * ```
 */
export function csrfProtection(options: KoaCsrfOptions = {}): Middleware {
  const { field = '_csrf', header = 'x-csrf-token', bodyLimit = 1 << 20 } = options;
  return async function tesseraCsrf(ctx, next) {
    const rs = (ctx as WithSession)[kSession];
    await verifyCsrf(
      {
        method: ctx.method,
        // Not ctx.origin: on Koa 3 that can be the request's Origin header, not this app's.
        self: `${ctx.protocol}://${ctx.host}`,
        origin: ctx.get('origin') || undefined,
        secFetchSite: ctx.get('sec-fetch-site') || undefined,
        referer: ctx.get('referer') || undefined,
        transport: rs?.transport,
      },
      () => ctx.get(header) || formToken(ctx, field, bodyLimit),
      () => {
        if (!rs) throw new SessionConfigError('csrfProtection() needs sessionMiddleware() first');
        return rs.session();
      },
      options,
    );
    return next();
  };
}
