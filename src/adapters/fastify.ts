import { validateHeaderValue } from 'node:http';
import type { FastifyPluginCallback, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { SessionConfigError } from '../errors.ts';
import { type CsrfOptions, verifyCsrf } from '../http/csrf.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { applySessionHeaders } from '../http/headers.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { AppSessionData } from '../session/types.ts';

export type { LoadSession } from '../http/load-session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Load this request's session (one store read on first call, the same object after).
     * Typed by `declare module 'tessera-session' { interface SessionTypes { data: MyData } }`.
     */
    session: LoadSession<AppSessionData>;
  }
}

/**
 * Options of the {@link sessionPlugin} plugin.
 *
 * @example
 * ```ts
 * await app.register(sessionPlugin, { sessions });
 * ```
 */
export interface FastifySessionsOptions {
  /** What `createSessions()` returned. Required. */
  // biome-ignore lint/suspicious/noExplicitAny: any data type; requests see AppSessionData.
  readonly sessions: Sessions<any>;
  /**
   * The request property the loader goes on. Default `'session'`. Another name (e.g.
   * `'tessera'`) lets `@fastify/session` keep `request.session` during a gradual switch;
   * type it with `declare module 'fastify' { interface FastifyRequest { tessera: LoadSession<AppSessionData> } }`.
   * `csrfProtection()` finds the loader whatever its name.
   */
  readonly property?: string;
}

interface RequestState {
  readonly rs: DeferredSession<object, FastifyRequest>;
  /** The handler failed, or the commit already ran: the next onSend writes nothing. */
  done: boolean;
}

const kState = Symbol('tessera.state');
type WithState = FastifyRequest & { [kState]?: RequestState };

/** What the core needs of a request; request.protocol and request.ip follow Fastify's trustProxy. */
function read(request: FastifyRequest): RequestInfo {
  return {
    cookie: request.headers.cookie,
    headers: request.headers,
    secure: request.protocol === 'https',
    host: request.host,
    userAgent: request.headers['user-agent'],
    ip: request.ip,
  };
}

const plugin: FastifyPluginCallback<FastifySessionsOptions> = (fastify, options, done) => {
  const { sessions } = options ?? {};
  try {
    assertSessions(sessions, 'tessera-session/fastify: app.register(sessionPlugin, { sessions })');
  } catch (err) {
    done(err as SessionConfigError);
    return;
  }
  const { property = 'session' } = options;
  fastify.decorateRequest(property, null);
  fastify.decorateRequest(kState, null);

  fastify.addHook('onRequest', function tesseraOpen(request, _reply, next) {
    // Opened on first use: a route that never loads its session reads nothing of the request.
    const rs = new DeferredSession(sessions, request, read);
    (request as WithState)[kState] = { rs, done: false };
    (request as unknown as Record<string, unknown>)[property] = () => rs.session();
    next();
  });

  // A handler that failed commits nothing, whatever the error handler then answers.
  fastify.addHook('onError', function tesseraFailed(request, _reply, _err, next) {
    const state = (request as WithState)[kState];
    if (state) state.done = true;
    next();
  });

  // onSend runs before the head is written: the one place to commit and add the cookie.
  fastify.addHook('onSend', async function tesseraCommit(request, reply, payload) {
    const state = (request as WithState)[kState];
    if (!state || state.done || !state.rs.loaded) return payload;
    state.done = true;
    // Node checks header values only when Fastify writes the head, after this hook: a value it
    // will refuse (a Location with a newline) is refused here, before anything is committed,
    // and goes to Fastify's error handler (500) like any handler error.
    const own = reply.getHeaders();
    for (const name in own) validateHeaderValue(name, own[name] as string);
    try {
      // The core's rule: a 5xx answer commits nothing.
      const { headers } = await state.rs.commit({ status: reply.statusCode });
      // Fastify keeps every set-cookie value given to reply.header() (it does not replace them).
      applySessionHeaders(
        {
          get: (name) => reply.getHeader(name)?.toString(),
          set: (name, value) => reply.header(name, value),
          append: (name, value) => reply.header(name, value),
        },
        headers,
      );
    } catch (err) {
      // Thrown from onSend, the error goes through Fastify's error handler (503 by its status).
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      throw asSessionError(err);
    }
    return payload;
  });
  done();
};

/**
 * The Fastify plugin (Fastify 5): `request.session()` loads the session on first call; the
 * store write happens in `onSend`, before the head is written. A store failure goes to
 * Fastify's error handler as a `SessionStoreError` (status 503, code
 * `ERR_SESSION_STORE_UNAVAILABLE`); a request whose handler failed, or whose answer is a 5xx,
 * commits nothing. Protocol and address come from `request.protocol`/`request.ip`, so behind a
 * reverse proxy create Fastify with `trustProxy` (needed for `cookie.secure: 'auto'`).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createSessions, memoryStore } from 'tessera-session';
 * import { sessionPlugin } from 'tessera-session/fastify';
 *
 * const sessions = createSessions<{ views: number }>({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * const app = Fastify();
 * await app.register(sessionPlugin, { sessions });
 * app.get('/', async (request) => {
 *   const session = await request.session();
 *   return { views: session.increment('views') };
 * });
 * await app.listen({ port: 3000 });
 * ```
 */
export const sessionPlugin = fp(plugin, { fastify: '5.x', name: 'tessera-session' });

/**
 * Options of {@link csrfProtection}.
 *
 * @example
 * ```ts
 * app.addHook('preHandler', csrfProtection({ trustedOrigins: ['https://admin.example.com'] }));
 * ```
 */
export type FastifyCsrfOptions = CsrfOptions;

function formField(body: unknown, field: string): unknown {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[field];
  // @fastify/multipart with attachFieldsToBody gives { value } objects.
  if (value && typeof value === 'object' && 'value' in value) return value.value;
  return value;
}

/**
 * CSRF protection as a `preHandler` hook, for state-changing requests (POST, PUT, PATCH,
 * DELETE): the `Origin` / `Sec-Fetch-Site` (or, with neither, the `Referer`) must be this app's (or trusted), and the request must
 * carry `session.csrfToken()` in the `x-csrf-token` header or the `_csrf` field of the parsed
 * body (urlencoded with `@fastify/formbody`, multipart with `@fastify/multipart`'s
 * `attachFieldsToBody`). A refusal throws `CsrfError` (403, `ERR_SESSION_CSRF`).
 *
 * @example
 * ```ts
 * await app.register(formbody);
 * await app.register(sessionPlugin, { sessions });
 * app.addHook('preHandler', csrfProtection());
 * ```
 */
export function csrfProtection(options: FastifyCsrfOptions = {}): preHandlerAsyncHookHandler {
  const { field = '_csrf', header = 'x-csrf-token' } = options;
  return async function tesseraCsrf(request) {
    const h = request.headers;
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const state = (request as WithState)[kState];
    // request.protocol and request.host follow Fastify's trustProxy option.
    await verifyCsrf(
      {
        method: request.method,
        self: `${request.protocol}://${request.host}`,
        origin: one(h.origin),
        secFetchSite: one(h['sec-fetch-site']),
        referer: one(h.referer),
        transport: state?.rs.transport,
      },
      () => one(h[header]) ?? formField(request.body, field),
      () => {
        if (!state)
          throw new SessionConfigError('csrfProtection() needs sessionPlugin registered first');
        return state.rs.session();
      },
      options,
    );
  };
}
