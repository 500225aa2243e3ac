import type { ServerResponse } from 'node:http';
import type { SessionError } from '../errors.ts';

/**
 * The one way tessera answers a `SessionError`: its status (403 CSRF, 503 store down, …) and
 * `{ "error": code, "message": … }` as JSON, never cached. A 503 does not show the store's
 * details (host names, driver messages) to the client.
 *
 * @example
 * ```ts
 * const { status, headers, body } = renderSessionError(err);
 * ```
 */
export function renderSessionError(err: SessionError): {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
} {
  const message = err.status === 503 ? 'session store unavailable' : err.message;
  return {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: err.code, message }),
  };
}

/**
 * {@link renderSessionError} as a Web `Response` (Hono, fetch-style servers).
 *
 * @example
 * ```ts
 * if (err instanceof SessionError) return sessionErrorResponse(err);
 * ```
 */
export function sessionErrorResponse(err: SessionError): Response {
  const { status, headers, body } = renderSessionError(err);
  return new Response(body, { status, headers });
}

/**
 * {@link renderSessionError} on a node:http response: the headers the handler set are dropped.
 * Once the head is out there is no answer left to give, so the connection is cut.
 *
 * @example
 * ```ts
 * if (err instanceof SessionError) return sendSessionError(res, err);
 * ```
 */
export function sendSessionError(res: ServerResponse, err: SessionError): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const { status, headers, body } = renderSessionError(err);
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.end(body);
}
