import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionError } from '../errors.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import { holdUntilCommitted, sendSessionError } from '../lib/hold-response.ts';
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
 * import { createSessions, memoryStore } from 'tessera';
 * import { withSessions } from 'tessera/node';
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
    let hold: { release(): void } | null = null;
    const load: LoadSession<Data> = () => {
      hold ??= holdUntilCommitted(
        res,
        () => rs.commit(),
        (err) => sendSessionError(res, asSessionError(err)),
      );
      return rs.session();
    };
    try {
      await handler(req, res, load);
    } catch (err) {
      // The handler failed: its session changes are not committed, and the answer is an error.
      (hold as { release(): void } | null)?.release();
      if (err instanceof SessionError) return sendSessionError(res, err);
      onError(err, req);
      if (res.headersSent) res.destroy();
      else {
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 500;
        res.end('Internal Server Error');
      }
    }
  };
}

function defaultOnError(err: unknown): void {
  console.error('tessera/node: the handler threw', err);
}
