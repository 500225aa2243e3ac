import type { SessionError } from '../errors.ts';
import { mergeVary } from './vary.ts';

/** The JSON answer every adapter gives for a session error (503 hides the store's details). */
export function sessionErrorBody(err: SessionError): string {
  const message = err.status === 503 ? 'session store unavailable' : err.message;
  return JSON.stringify({ error: err.code, message });
}

/** A Web `Response` for a session error. */
export function sessionErrorResponse(err: SessionError): Response {
  return new Response(sessionErrorBody(err), {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * `res` with tessera's headers added: Set-Cookie appended, Vary merged, the rest replaced. A
 * response whose headers are immutable (one returned by `fetch()`) is copied first.
 */
export function withSessionHeaders(
  res: Response,
  headers: ReadonlyArray<readonly [string, string]>,
): Response {
  if (headers.length === 0) return res;
  let out = res;
  try {
    out.headers.append('x-tessera-probe', '1');
    out.headers.delete('x-tessera-probe');
  } catch {
    out = new Response(res.body, res);
  }
  for (const [name, value] of headers) {
    if (name === 'set-cookie') out.headers.append(name, value);
    else if (name === 'vary') {
      const vary = mergeVary(out.headers.get('vary') ?? undefined, value);
      if (vary !== undefined) out.headers.set('vary', vary);
    } else out.headers.set(name, value);
  }
  return out;
}
