/**
 * How the session token travels between client and server: in the cookie, or in a request
 * header (`token: { header }`). Spring Session's `HttpSessionIdResolver` as three verbs: read
 * the values a request presents, issue a value, expire it. The request lifecycle asks the one
 * transport a request uses and never knows which it has; adapters pass the request's headers
 * and apply the response headers, whatever they are.
 * @internal
 */
import { CookieTooLargeError } from '../errors.ts';
import { readCookie, serializeCookie } from '../lib/cookie.ts';
import type { InternalOptions, ResolvedToken } from '../options.ts';
import type { RequestHeaders, RequestInfo } from './request.ts';

/**
 * How a request's session token travels: `'cookie'`, or `'header'` (`token: { header }`). A
 * header-token request has no ambient credential (a browser never adds the header by itself),
 * so the CSRF guards let it through.
 *
 * @example
 * ```ts
 * const via: SessionTransport = (await req.session()).transport;
 * ```
 */
export type SessionTransport = 'cookie' | 'header';

type Header = readonly [name: string, value: string];

export interface Transport {
  readonly kind: SessionTransport;
  /** The token values the request presents (several same-named cookies; one header). */
  read(info: RequestInfo): readonly string[];
  /**
   * Hand the client `value`. `held` is the value the client already holds and that is still
   * current (a header client holding it is sent nothing; a cookie is always re-sent, for its
   * Max-Age).
   */
  issue(
    value: string,
    maxAge: number | undefined,
    info: RequestInfo,
    held: string | null,
  ): readonly Header[];
  /** Tell the client its token is dead (the request ended the session). */
  expire(info: RequestInfo): readonly Header[];
}

const CLEAR = ''; // the value of an expiring cookie, and of the response header at logout

function cookieTransport(
  o: InternalOptions,
  limit: number,
  secureCookie: (info: RequestInfo) => void,
): Transport {
  const c = o.cookie;
  function setCookie(value: string, maxAge: number | undefined, info: RequestInfo) {
    const secure = c.secure === 'auto' ? info.secure === true : c.secure;
    if (secure) secureCookie(info);
    const header = serializeCookie(c.name, value, {
      path: c.path,
      domain: c.domain,
      maxAge,
      httpOnly: true,
      secure,
      sameSite: c.sameSite,
      partitioned: c.partitioned,
    });
    if (header.length > limit) throw new CookieTooLargeError(header.length, limit);
    return [
      ['set-cookie', header],
      ['cache-control', 'no-store'],
      ['vary', 'Cookie'],
    ] as const;
  }
  return {
    kind: 'cookie',
    read: (info) => readCookie(info.cookie, c.name),
    issue: (value, maxAge, info) => setCookie(value, maxAge, info),
    // Same name, path and domain, so the browser replaces (and drops) the cookie it holds.
    expire: (info) => setCookie(CLEAR, 0, info),
  };
}

/** One header's value from node's `req.headers` or a Web `Headers` (a repeated header: `null`). */
function headerValue(headers: RequestHeaders | undefined, name: string): string | null {
  if (headers === undefined) return null;
  // A plain object may hold a header named "get": only a function is a Headers' method.
  if (typeof headers.get === 'function')
    return (headers as { get(n: string): string | null }).get(name);
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  return typeof value === 'string' ? value : null;
}

/** RFC 6750 2.1: `Bearer` (any case), then the token; `Bearer` alone asks for a new session. */
const BEARER = /^bearer(?:[ \t]+(.*))?$/i;

function headerTransport(t: ResolvedToken, limit: number): Transport {
  // Vary names the request header a response depends on; the response header must be exposed to
  // a browser script on another origin (CORS), or it cannot read the token it was given.
  const vary = t.bearer ? 'Authorization' : t.header;
  const send = (value: string): readonly Header[] => [
    [t.responseHeader, value],
    ['cache-control', 'no-store'], // RFC 6749 5.1: a response carrying a token is never cached
    ['vary', vary],
    ['access-control-expose-headers', t.responseHeader],
  ];
  return {
    kind: 'header',
    read(info) {
      const token = presented(t, info.headers);
      return token ? [token] : [];
    },
    issue(value, _maxAge, _info, held) {
      if (value === held) return []; // the client already holds this very value
      const size = t.responseHeader.length + value.length;
      if (size > limit) throw new CookieTooLargeError(size, limit);
      return send(value);
    },
    expire: () => send(CLEAR),
  };
}

/**
 * The token a request carries in the configured header: a string (empty when the header asks
 * for a new session), or `null` when the request does not carry the header at all.
 */
function presented(t: ResolvedToken, headers: RequestHeaders | undefined): string | null {
  const raw = headerValue(headers, t.header);
  if (raw === null) return null;
  if (!t.bearer) return raw.trim();
  const m = BEARER.exec(raw.trim());
  // Another scheme (Basic, a JWT's own Bearer is still Bearer) is not a session token.
  return m === null ? null : (m[1] ?? '').trim();
}

/**
 * The transport of each request, chosen once per request with no I/O. Header only: every
 * request. Header and cookie: a request that carries the header (empty asks for a new session)
 * uses it and its cookie is never read, so a request can never mix the two; any other request
 * uses the cookie.
 */
export function transports(
  o: InternalOptions,
  limit: number,
  secureCookie: (info: RequestInfo) => void,
): (info: RequestInfo) => Transport {
  const cookie = cookieTransport(o, limit, secureCookie);
  const t = o.token;
  if (t === null) return () => cookie;
  const header = headerTransport(t, limit);
  if (!t.cookie) return () => header;
  return (info) => (presented(t, info.headers) === null ? cookie : header);
}
