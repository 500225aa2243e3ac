import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { CsrfError, SessionConfigError, SessionError } from '../errors.ts';
import { type CsrfOptions, type CsrfVerifier, verifyCsrf } from '../http/csrf.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { renderSessionError } from '../http/errors.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import { holdResponse, resetHeaders } from '../lib/hold-response.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { RequestSession } from '../lifecycle/request-session.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { AppSessionData } from '../session/types.ts';

export type { LoadSession } from '../http/load-session.ts';

declare global {
  namespace Express {
    interface Request {
      /**
       * Load this request's session (one store read on first call, the same object after).
       * Set by tessera's `sessionMiddleware`; typed by `declare module 'tessera-session' { interface
       * SessionTypes { data: MyData } }`.
       */
      session: LoadSession<AppSessionData>;
    }
  }
}

/**
 * Options of {@link sessionMiddleware}.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, { property: 'tessera' })); // req.tessera()
 * ```
 */
export interface ExpressSessionOptions {
  /**
   * The request property the loader goes on. Default `'session'`. Another name (e.g.
   * `'tessera'`) lets express-session keep `req.session` during a gradual switch; type it with
   * `declare global { namespace Express { interface Request { tessera: LoadSession<AppSessionData> } } }`.
   * `csrfProtection()` finds the loader whatever its name.
   */
  readonly property?: string;
}

/**
 * Each request's session, for csrfProtection whatever property its loader is on (and whether its
 * token came in a header): a symbol on the request, not a WeakMap (a WeakMap entry per request
 * made the middleware cost ~10 µs of CPU per request in garbage-collection work: Express's `idle`
 * fell from ~100 % to ~77 % of its ceiling).
 */
const kSession = Symbol('tessera.session');
type WithSession = Request & {
  [kSession]?: {
    readonly transport: RequestSession['transport'];
    session(): Promise<CsrfVerifier>;
  };
};

/**
 * Express middleware (Express 4.21+ and 5): `req.session()` loads the session on first call. The store
 * write completes before the response head is sent; a store failure is passed to Express's
 * error handling as a `SessionStoreError` (status 503), with the handler's headers dropped. A
 * response with a 5xx status commits nothing: a handler that failed half-way saves nothing.
 *
 * The request's protocol and address come from `req.secure` and `req.ip`, so behind a reverse
 * proxy set Express's own `app.set('trust proxy', …)` (needed for `cookie.secure: 'auto'`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createSessions, memoryStore } from 'tessera-session';
 * import { sessionErrors, sessionMiddleware } from 'tessera-session/express';
 *
 * const sessions = createSessions<{ views: number }>({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * const app = express();
 * app.use(sessionMiddleware(sessions));
 * app.get('/', async (req, res) => {
 *   const session = await req.session();
 *   res.send(`views: ${session.increment('views')}`);
 * });
 * app.use(sessionErrors());
 * app.listen(3000);
 * ```
 */
export function sessionMiddleware<Data extends object>(
  sessions: Sessions<Data>,
  options: ExpressSessionOptions = {},
): RequestHandler {
  const { property = 'session' } = options;
  assertSessions(sessions, 'tessera-session/express: sessionMiddleware(sessions)');
  return function tesseraSession(req, res, next) {
    // Opened on first use: a route that never loads its session reads nothing of the request.
    const rs = new DeferredSession(sessions, req, read);
    // Express has no hook before the head is written: the response's writes are held until
    // the commit is done (see hold-response.ts), from here on, so no handler can get past it.
    holdResponse(res, rs, {
      commitFailed: (err) => {
        resetHeaders(res);
        res.statusCode = 200;
        next(asSessionError(err));
      },
      replayFailed: (err) => {
        // A held write threw (an invalid header value): Express's error path answers, as it
        // would without tessera; once the head is out, the only answer left is to cut it short.
        if (res.headersSent) return void res.destroy();
        resetHeaders(res);
        res.statusCode = 500;
        next(err);
      },
    });
    const load = () => rs.session();
    (req as unknown as Record<string, unknown>)[property] = load;
    (req as WithSession)[kSession] = rs;
    next();
  };
}

function read(req: Request): RequestInfo {
  return {
    cookie: req.headers.cookie,
    headers: req.headers,
    secure: req.secure,
    host: ownHost(req),
    userAgent: req.headers['user-agent'],
    ip: req.ip,
  };
}

/**
 * An Express error handler for tessera's errors: answers `err.status` (403 for CSRF, 503 when
 * the store is down) with `{ "error": code, "message": … }` as JSON, and passes anything else on.
 * Register it after your routes.
 *
 * @example
 * ```ts
 * app.use(sessionErrors());
 * app.use((err, req, res, next) => { res.status(500).send('Something broke') });
 * ```
 */
export function sessionErrors(): ErrorRequestHandler {
  return function tesseraSessionErrors(err, _req, res, next) {
    if (!(err instanceof SessionError) || res.headersSent) return next(err);
    const { status, headers, body } = renderSessionError(err);
    res.status(status).set(headers).send(body);
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
export interface ExpressCsrfOptions extends CsrfOptions {
  /** Largest urlencoded body the guard reads itself when no body parser ran first. Default 1 MiB. */
  readonly bodyLimit?: number;
}

const FORM = /^application\/x-www-form-urlencoded\b/i;

async function formToken(req: Request, field: string, limit: number): Promise<unknown> {
  const body: unknown = req.body;
  if (body && typeof body === 'object') return (body as Record<string, unknown>)[field];
  // No parser ran yet: read the urlencoded body here and leave it parsed on req.body, where
  // express.urlencoded() (which skips a body already read) and the handler find it. A multipart
  // body cannot be read twice: run multer before the guard, or send the x-csrf-token header.
  if (!FORM.test(req.headers['content-type'] ?? '') || req.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new CsrfError('form body too large to read the CSRF token from');
    chunks.push(chunk);
  }
  const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  req.body = fields;
  return fields[field];
}

/**
 * CSRF protection for state-changing requests (POST, PUT, PATCH, DELETE): the `Origin` /
 * `Sec-Fetch-Site` (or, with neither, the `Referer`) must be this app's (or trusted), and the request must carry
 * `session.csrfToken()` in the `x-csrf-token` header or the `_csrf` form field. A refusal is a
 * `CsrfError` (403, `ERR_SESSION_CSRF`) passed to Express's error handling. Use after
 * `sessionMiddleware`; for multipart forms, after your multipart parser (e.g. multer).
 *
 * @example
 * ```ts
 * app.use(express.urlencoded());
 * app.use(sessionMiddleware(sessions));
 * app.use(csrfProtection());
 * app.get('/form', async (req, res) => {
 *   res.send(`<form method="post"><input type="hidden" name="_csrf" value="${(await req.session()).csrfToken()}"></form>`);
 * });
 * ```
 */
export function csrfProtection(options: ExpressCsrfOptions = {}): RequestHandler {
  const { field = '_csrf', header = 'x-csrf-token', bodyLimit = 1 << 20 } = options;
  return async function tesseraCsrf(req, _res, next) {
    const rs = (req as WithSession)[kSession];
    try {
      await verifyCsrf(
        {
          method: req.method,
          self: `${req.protocol}://${ownHost(req)}`,
          origin: req.get('origin'),
          secFetchSite: req.get('sec-fetch-site'),
          referer: req.get('referer'),
          transport: rs?.transport,
        },
        () => req.get(header) ?? formToken(req, field, bodyLimit),
        () => {
          if (!rs) throw new SessionConfigError('csrfProtection() needs sessionMiddleware() first');
          return rs.session();
        },
        options,
      );
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * The host the client addressed, with its port, under Express's own 'trust proxy' setting.
 * Not `req.host`: Express 4's drops the port (so a same-origin POST to localhost:3000 would be
 * refused) and prints a deprecation; Express 5's is this.
 */
function ownHost(req: Request): string | undefined {
  const trust = req.app.get('trust proxy fn') as ((addr: string, i: number) => boolean) | undefined;
  const forwarded = req.get('x-forwarded-host');
  if (forwarded && trust?.(req.socket.remoteAddress ?? '', 0)) {
    const comma = forwarded.indexOf(',');
    return (comma === -1 ? forwarded : forwarded.slice(0, comma)).trim();
  }
  return req.get('host');
}
