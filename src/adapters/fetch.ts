import { SessionError } from '../errors.ts';
import { DeferredSession } from '../http/deferred-session.ts';
import { sessionErrorResponse } from '../http/errors.ts';
import { type TrustProxyOption, webForwarded } from '../http/forwarded.ts';
import { withSessionHeaders } from '../http/headers.ts';
import { assertSessions, type LoadSession } from '../http/load-session.ts';
import { asSessionError } from '../lib/as-session-error.ts';
import type { RequestInfo } from '../lifecycle/request.ts';
import type { Sessions } from '../lifecycle/sessions.ts';

export type { LoadSession } from '../http/load-session.ts';

/**
 * A Web handler that also gets the session.
 *
 * @example
 * ```ts
 * const handler: FetchSessionHandler<{ views: number }> = async (_request, session) =>
 *   new Response(String((await session()).increment('views')));
 * ```
 */
export type FetchSessionHandler<Data extends object, Extra extends unknown[] = []> = (
  request: Request,
  session: LoadSession<Data>,
  ...extra: Extra
) => Response | Promise<Response>;

/**
 * Options of {@link withSessions}.
 *
 * @example
 * ```ts
 * Bun.serve({ fetch: withSessions(sessions, handler, { trustProxy: true }) });
 * ```
 */
export interface FetchAdapterOptions extends TrustProxyOption {
  /**
   * Trust `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` from a reverse proxy
   * (`secure: 'auto'`, the recorded IP). Default `false`: otherwise any client could claim
   * HTTPS or an address.
   */
  readonly trustProxy?: boolean;
  /** The client's address, if the runtime knows it (e.g. Deno's `info.remoteAddr`). */
  readonly clientIp?: (request: Request) => string | undefined;
}

/**
 * Wrap a fetch-style handler (`Request` → `Response`) for any runtime that speaks the Web API
 * (Deno, Bun, Cloudflare-style workers, `@hono/node-server`'s `serve`). The session is loaded on
 * the handler's first call of `session()`; after the handler returns, changes are committed
 * (one store write) and the cookie headers added. A handler that throws commits nothing and its
 * error propagates; a store failure answers 503 `{ "error": "ERR_SESSION_STORE_UNAVAILABLE" }`.
 *
 * @example
 * ```ts
 * import { createSessions, memoryStore } from 'tessera-session';
 * import { withSessions } from 'tessera-session/fetch';
 *
 * const sessions = createSessions<{ views: number }>({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * export default {
 *   fetch: withSessions(sessions, async (request, session) => {
 *     const s = await session();
 *     return new Response(`views: ${s.increment('views')}`);
 *   }),
 * };
 * ```
 */
export function withSessions<Data extends object, Extra extends unknown[] = []>(
  sessions: Sessions<Data>,
  handler: FetchSessionHandler<Data, Extra>,
  options: FetchAdapterOptions = {},
): (request: Request, ...extra: Extra) => Promise<Response> {
  assertSessions(sessions, 'tessera-session/fetch: withSessions(sessions, handler)');
  const read = (request: Request): RequestInfo => {
    const f = webForwarded(request, {
      trustProxy: options.trustProxy ?? false,
      ip: options.clientIp?.(request),
    });
    return {
      cookie: request.headers.get('cookie'),
      headers: request.headers,
      secure: f.secure,
      host: f.host,
      userAgent: request.headers.get('user-agent') ?? undefined,
      ip: f.ip,
    };
  };
  return async function tesseraFetchHandler(request, ...extra) {
    // Opened on first use: a request that never loads its session reads nothing of the request.
    const rs = new DeferredSession(sessions, request, read);
    let res: Response;
    try {
      res = await handler(request, () => rs.session(), ...extra);
    } catch (err) {
      if (err instanceof SessionError) return sessionErrorResponse(err);
      throw err;
    }
    if (!rs.loaded) return res;
    try {
      return withSessionHeaders(res, (await rs.commit({ status: res.status })).headers);
    } catch (err) {
      await res.body?.cancel();
      return sessionErrorResponse(asSessionError(err));
    }
  };
}
