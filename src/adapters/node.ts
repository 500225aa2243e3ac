import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionError } from '../errors.ts';
import { assertCsrf, type CsrfOptions } from '../http/csrf.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { sendSessionError } from '../http/errors.ts';
import {
  type ForwardedFacts,
  nodeForwarded,
  ownOrigin,
  type TrustProxyOption,
} from '../http/forwarded.ts';
import type { SessionHeaders } from '../http/headers.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import { holdResponse, resetHeaders } from '../lib/hold-response.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { Sessions } from '../lifecycle/sessions.ts';

export type { LoadSession } from '../http/load-session.ts';

/**
 * Options of {@link withSessions}.
 *
 * @example
 * ```ts
 * createServer(withSessions(sessions, handler, { trustProxy: true }));
 * ```
 */
export interface NodeAdapterOptions extends TrustProxyOption {
  /**
   * Trust `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` from a reverse proxy
   * (for `secure: 'auto'`, the recorded IP, and the own origin `checkCsrf` compares with).
   * Default `false`: a client could otherwise claim HTTPS, another host or any address.
   */
  readonly trustProxy?: boolean;
  /** Called with an error the handler threw (the client gets a 500). Default: `console.error`. */
  readonly onError?: (err: unknown, req: IncomingMessage) => void;
}

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

/** The facts `withSessions` read for a request, for `checkCsrf` on the same request. */
const kFacts = Symbol('tessera.facts');
type WithFacts = IncomingMessage & { [kFacts]?: ForwardedFacts };

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
  assertSessions(sessions, 'tessera-session/node: withSessions(sessions, handler)');
  const { onError = defaultOnError } = options;
  const read = (req: IncomingMessage): RequestInfo => {
    const forwarded = nodeForwarded(req, options);
    (req as WithFacts)[kFacts] = forwarded;
    return {
      cookie: req.headers.cookie,
      headers: req.headers,
      secure: forwarded.secure,
      host: forwarded.host,
      userAgent: req.headers['user-agent'],
      ip: forwarded.ip,
    };
  };
  return async function tesseraNodeHandler(req, res) {
    // Opened on first use: a request that never loads its session reads nothing of the request.
    const rs = new DeferredSession(sessions, req, read);
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

function internalError(res: ServerResponse, headers: SessionHeaders): void {
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
export interface NodeCsrfOptions extends Omit<CsrfOptions, 'field'> {
  /** The `_csrf` field of the form the handler parsed, when the header is absent. */
  readonly formToken?: unknown;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * CSRF check for a node:http handler, the same as the framework guards: on a state-changing
 * method, the `Origin` / `Sec-Fetch-Site` (or, with neither, the `Referer`) must be this app's
 * (or trusted) and the token (`x-csrf-token` header, else `formToken` from the form the handler
 * parsed) must verify for this session. This app's origin comes from what `withSessions` read
 * under its `trustProxy`: set it once, there. Throws `CsrfError`, which `withSessions` answers
 * with 403 `ERR_SESSION_CSRF`.
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
  session: Parameters<typeof assertCsrf>[2],
  options: NodeCsrfOptions = {},
): void {
  const { header: tokenHeader = 'x-csrf-token', formToken } = options;
  assertCsrf(
    {
      method: req.method ?? 'GET',
      self: ownOrigin((req as WithFacts)[kFacts] ?? nodeForwarded(req)),
      origin: header(req, 'origin'),
      secFetchSite: header(req, 'sec-fetch-site'),
      referer: header(req, 'referer'),
    },
    header(req, tokenHeader.toLowerCase()) ?? formToken,
    session,
    options,
  );
}
