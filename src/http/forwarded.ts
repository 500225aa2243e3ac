import type { IncomingMessage } from 'node:http';

/**
 * What a request says about how it reached the app, read once under one `trustProxy` setting:
 * the session middleware reads it, and the CSRF check of the same request uses the same facts.
 *
 * @example
 * ```ts
 * const { secure, host, ip }: ForwardedFacts = nodeForwarded(req, { trustProxy: true });
 * ```
 */
export interface ForwardedFacts {
  /** Whether the client's request was HTTPS (decides `cookie.secure: 'auto'`). */
  readonly secure: boolean;
  /** The host the client addressed (with its port), for this app's own origin. */
  readonly host: string | undefined;
  /** The client's address (recorded in the session's meta for "your devices" pages). */
  readonly ip: string | undefined;
}

/**
 * `trustProxy`: believe `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` from a
 * reverse proxy. Default `false`: without a proxy that sets them, any client could claim HTTPS,
 * another host or any address.
 *
 * @example
 * ```ts
 * const options: TrustProxyOption = { trustProxy: process.env.BEHIND_PROXY === '1' };
 * ```
 */
export interface TrustProxyOption {
  readonly trustProxy?: boolean;
}

/** The first element of a forwarded list (the proxy nearest the client wrote it first). */
function first(value: string | string[] | null | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim() || undefined;
}

/**
 * The facts of a node:http request (node:http, Koa; Express and Fastify use their own
 * `trust proxy` settings).
 *
 * @example
 * ```ts
 * const { secure, ip } = nodeForwarded(req, { trustProxy: true });
 * ```
 */
export function nodeForwarded(
  req: IncomingMessage,
  options: TrustProxyOption = {},
): ForwardedFacts {
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined;
  const encrypted = socket?.encrypted === true;
  if (!options.trustProxy)
    return { secure: encrypted, host: req.headers.host, ip: socket?.remoteAddress };
  const proto = first(req.headers['x-forwarded-proto']);
  return {
    secure: proto ? proto === 'https' : encrypted,
    host: first(req.headers['x-forwarded-host']) ?? req.headers.host,
    ip: first(req.headers['x-forwarded-for']) ?? socket?.remoteAddress,
  };
}

/**
 * The facts of a Web `Request` (Hono, fetch-style servers). The URL gives the scheme and host;
 * the client's address comes from the runtime (`ip`), as Hono's `getConnInfo` does.
 *
 * @example
 * ```ts
 * const facts = webForwarded(request, { trustProxy: true, ip: info.remoteAddr.hostname });
 * ```
 */
export function webForwarded(
  request: Request,
  options: TrustProxyOption & { readonly ip?: string | undefined } = {},
): ForwardedFacts {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  if (!options.trustProxy) return { secure, host: url.host, ip: options.ip };
  const h = request.headers;
  const proto = first(h.get('x-forwarded-proto'));
  return {
    secure: proto ? proto === 'https' : secure,
    host: first(h.get('x-forwarded-host')) ?? url.host,
    ip: first(h.get('x-forwarded-for')) ?? options.ip,
  };
}

/**
 * This app's own origin as the client addressed it, e.g. `https://example.com:8443`.
 *
 * @example
 * ```ts
 * ownOrigin(nodeForwarded(req)); // 'http://localhost:3000'
 * ```
 */
export function ownOrigin(facts: Pick<ForwardedFacts, 'secure' | 'host'>): string {
  return `${facts.secure ? 'https' : 'http'}://${facts.host ?? ''}`;
}
