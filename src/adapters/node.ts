import type { IncomingMessage, ServerResponse } from 'node:http';
import { CsrfError, SessionError } from '../errors.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import { type CsrfGuardOptions, isSafeMethod, originAllowed } from '../lib/csrf-guard.ts';
import { holdResponse, resetHeaders, sendSessionError } from '../lib/hold-response.ts';
import type { Sessions } from '../manager.ts';
import type { Session } from '../session.ts';

/**
 * Options of {@link withSessions}.
 *
 * @example
 * ```ts
 * createServer(withSessions(sessions, handler, { trustProxy: true }));
 * ```
 */
export interface NodeAdapterOptions {
  /**
   * Trust `X-Forwarded-Proto` and `X-Forwarded-For` from a reverse proxy (for `secure: 'auto'`
   * and the recorded IP). Default `false`: a client could otherwise claim HTTPS or any address.
   */
  readonly trustProxy?: boolean;
  /** Called with an error the handler threw (the client gets a 500). Default: `console.error`. */
  readonly onError?: (err: unknown, req: IncomingMessage) => void;
}

/**
 * The lazy session getter handed to the handler: no store I/O until it is called.
 *
 * @example
 * ```ts
 * async (req, res, session: LoadSession<MyData>) => { const s = await session(); }
 * ```
 */
export type LoadSession<Data extends object> = () => Promise<Session<Data>>;

/**
 * SessionHandler.
 *
 * @example
 * ```ts
 * const handler: SessionHandler<MyData> = async (req, res, session) => res.end(String((await session()).isNew));
 * ```
 */
export type SessionHandler<Data extends object> = (
  req: IncomingMessage,
  res: ServerResponse,
  session: LoadSession<Data>,
) => unknown;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What the core needs to know about a node:http request.
 *
 * @example
 * ```ts
 * const rs = sessions.request(requestInfo(req, false));
 * ```
 */
export function requestInfo(req: IncomingMessage, trustProxy: boolean) {
  const forwardedProto = trustProxy
    ? firstHeader(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim()
    : undefined;
  const forwardedFor = trustProxy
    ? firstHeader(req.headers['x-forwarded-for'])?.split(',')[0]?.trim()
    : undefined;
  return {
    cookie: req.headers.cookie,
    secure: forwardedProto
      ? forwardedProto === 'https'
      : 'encrypted' in req.socket && req.socket.encrypted === true,
    userAgent: req.headers['user-agent'],
    ip: forwardedFor || req.socket.remoteAddress,
  };
}

/**
 * Wrap a node:http handler. The handler gets a third argument that loads the session on first
 * call; the store write completes before the response head is written; a store failure answers
 * 503 with `{"error":"ERR_SESSION_STORE_UNAVAILABLE"}` and the server keeps serving.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createSessions, memoryStore } from 'tessera-session';
 * import { withSessions } from 'tessera-session/node';
 *
 * const sessions = createSessions<{ views: number }>({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * createServer(withSessions(sessions, async (req, res, session) => {
 *   const s = await session();
 *   res.end(`views: ${s.increment('views')}`);
 * })).listen(3000);
 * ```
 */
export function withSessions<Data extends object>(
  sessions: Sessions<Data>,
  handler: SessionHandler<Data>,
  options: NodeAdapterOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { trustProxy = false, onError = defaultOnError } = options;
  return async function tesseraNodeHandler(req, res) {
    const rs = sessions.request(requestInfo(req, trustProxy));
    // Held from here, before the handler runs: no order of statements in it can write the head
    // before the commit (`res.end(String((await session()).increment('n')))` looks `res.end` up
    // first), and nothing thrown on the way out reaches the process.
    const hold = holdResponse(res, rs, {
      commitFailed: (err) => sendSessionError(res, asSessionError(err)),
      replayFailed: (err) => {
        onError(err, req);
        internalError(res, []);
      },
    });
    try {
      await handler(req, res, () => rs.session());
    } catch (err) {
      // The handler failed: its session changes are not committed, and the answer is an error.
      hold.abort((headers) => {
        if (err instanceof SessionError) return sendSessionError(res, err);
        onError(err, req);
        internalError(res, headers);
      });
    }
  };
}

function internalError(res: ServerResponse, headers: Parameters<typeof resetHeaders>[1]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  resetHeaders(res, headers);
  res.statusCode = 500;
  res.end('Internal Server Error');
}

function defaultOnError(err: unknown): void {
  console.error('tessera-session/node: the handler threw', err);
}

/**
 * Options of {@link checkCsrf}.
 *
 * @example
 * ```ts
 * checkCsrf(req, session, { formToken: form.get('_csrf'), trustedOrigins: ['https://admin.example.com'] });
 * ```
 */
export interface NodeCsrfOptions extends Omit<CsrfGuardOptions, 'field'> {
  /** The `_csrf` field of the form the handler parsed, when the header is absent. */
  readonly formToken?: unknown;
  /** Believe `X-Forwarded-Proto`/`X-Forwarded-Host` for this app's own origin. Default `false`. */
  readonly trustProxy?: boolean;
}

/**
 * CSRF check for a node:http handler, the same as the framework guards: on a state-changing
 * method, the `Origin` / `Sec-Fetch-Site` must be this app's (or trusted) and the token
 * (`x-csrf-token` header, else `formToken` from the form the handler parsed) must verify for
 * this session. Throws `CsrfError`, which `withSessions` answers with 403 `ERR_SESSION_CSRF`.
 *
 * @example
 * ```ts
 * createServer(withSessions(sessions, async (req, res, load) => {
 *   const session = await load();
 *   const form = new URLSearchParams(await text(req));
 *   checkCsrf(req, session, { formToken: form.get('_csrf') });
 *   // … the state change
 * }));
 * ```
 */
export function checkCsrf(
  req: IncomingMessage,
  session: Pick<Session<object>, 'verifyCsrfToken'>,
  options: NodeCsrfOptions = {},
): void {
  if (isSafeMethod(req.method ?? 'GET')) return;
  const { trustedOrigins = [], header = 'x-csrf-token', formToken, trustProxy = false } = options;
  const forwardedProto = trustProxy
    ? firstHeader(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim()
    : undefined;
  const forwardedHost = trustProxy
    ? firstHeader(req.headers['x-forwarded-host'])?.split(',')[0]?.trim()
    : undefined;
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  const self = `${forwardedProto || (encrypted ? 'https' : 'http')}://${forwardedHost || req.headers.host}`;
  const facts = {
    origin: req.headers.origin,
    secFetchSite: firstHeader(req.headers['sec-fetch-site']),
    self,
  };
  if (!originAllowed(facts, trustedOrigins)) throw new CsrfError('cross-origin request refused');
  const token = firstHeader(req.headers[header.toLowerCase()]) ?? formToken;
  if (!session.verifyCsrfToken(token)) throw new CsrfError('missing or invalid CSRF token');
}
