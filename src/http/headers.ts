import type { ServerResponse } from 'node:http';
import type { CommitResult } from '../lifecycle/request.ts';

/**
 * The headers a commit asks for: `set-cookie` (append), `vary` and
 * `access-control-expose-headers` (merge), the rest (`cache-control`, a header token's response
 * header) set.
 *
 * @example
 * ```ts
 * const headers: SessionHeaders = (await rs.commit({ status: 200 })).headers;
 * ```
 */
export type SessionHeaders = CommitResult['headers'];

/**
 * A response's headers as any framework exposes them: read one, replace one, add one.
 *
 * @example
 * ```ts
 * const target: HeaderTarget = {
 *   get: (name) => reply.getHeader(name)?.toString(),
 *   set: (name, value) => reply.header(name, value),
 *   append: (name, value) => reply.header(name, value),
 * };
 * ```
 */
export interface HeaderTarget {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
}

/**
 * The `Vary` value after adding `value` to what a response already has: `undefined` when nothing
 * changes, because `*` or the value is already listed (RFC 9110 12.5.5).
 *
 * @example
 * ```ts
 * mergeVary('Accept-Encoding', 'Cookie'); // 'Accept-Encoding, Cookie'
 * ```
 */
export function mergeVary(current: string | undefined, value: string): string | undefined {
  if (!current) return value;
  const listed = current.split(',').map((v) => v.trim().toLowerCase());
  if (listed.includes('*') || listed.includes(value.toLowerCase())) return undefined;
  return `${current}, ${value}`;
}

/** List-valued headers a commit adds to rather than replaces (the app, or CORS, may set them). */
function isList(name: string): boolean {
  return name === 'vary' || name === 'access-control-expose-headers';
}

/**
 * Apply a commit's headers to any response: each Set-Cookie appended (never replacing the app's
 * own cookies), Vary and Access-Control-Expose-Headers merged with what the app set, the rest
 * (Cache-Control, a header token) replaced.
 *
 * @example
 * ```ts
 * applySessionHeaders(target, (await rs.commit({ status })).headers);
 * ```
 */
export function applySessionHeaders(target: HeaderTarget, headers: SessionHeaders): void {
  for (const [name, value] of headers) {
    if (name === 'set-cookie') target.append(name, value);
    else if (isList(name)) {
      const merged = mergeVary(target.get(name), value);
      if (merged !== undefined) target.set(name, merged);
    } else target.set(name, value);
  }
}

/**
 * {@link applySessionHeaders} for a node:http `ServerResponse` (node:http, Express, Koa).
 *
 * @example
 * ```ts
 * if (!res.headersSent) applyNodeHeaders(res, (await rs.commit({ status: res.statusCode })).headers);
 * ```
 */
export function applyNodeHeaders(res: ServerResponse, headers: SessionHeaders): void {
  for (const [name, value] of headers) {
    if (name === 'set-cookie') res.appendHeader('set-cookie', value);
    else if (isList(name)) {
      const current = res.getHeader(name);
      const merged = mergeVary(current === undefined ? undefined : String(current), value);
      if (merged !== undefined) res.setHeader(name, merged);
    } else res.setHeader(name, value);
  }
}

/**
 * `response` with a commit's headers added (Hono, fetch-style servers). Headers are added in
 * place; a response whose headers are immutable (one returned by `fetch()`) is copied first.
 * In place matters: rebuilding a response costs `@hono/node-server` its fast path.
 *
 * @example
 * ```ts
 * return withSessionHeaders(response, (await rs.commit({ status: response.status })).headers);
 * ```
 */
export function withSessionHeaders(response: Response, headers: SessionHeaders): Response {
  if (headers.length === 0) return response;
  let out = response;
  try {
    out.headers.append('x-tessera-probe', '1');
    out.headers.delete('x-tessera-probe');
  } catch {
    out = new Response(response.body, response);
  }
  const h = out.headers;
  applySessionHeaders(
    {
      get: (name) => h.get(name) ?? undefined,
      set: (name, value) => h.set(name, value),
      append: (name, value) => h.append(name, value),
    },
    headers,
  );
  return out;
}
