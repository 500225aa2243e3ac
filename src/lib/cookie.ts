/**
 * Reading one named cookie and writing Set-Cookie headers.
 *
 * Written here rather than taken from the `cookie` package because the core must install
 * nothing, and because it only needs one cookie by name: scanning for it is cheaper than parsing
 * every cookie into an object. `test/cookie.test.ts` checks it against `cookie` as an oracle.
 */

/**
 * Most same-named cookies read from one header. A sibling subdomain can plant junk cookies of the
 * session's name ahead of the real one; browsers keep at most 180 cookies per domain (Chromium;
 * Firefox 150), so 200 candidates always reach the real cookie. Junk costs a length check or one
 * HMAC each; only cookies that verify cost a store read (at most 4 per request).
 */
export const MAX_CANDIDATES = 200;

/**
 * The values of every cookie called `name` in a `Cookie` header, in header order (browsers
 * send the longest path first). Quotes around a value are dropped (RFC 6265 4.1.1); values are
 * not URI-decoded, since tessera only writes base64url.
 */
export function readCookie(header: string | undefined | null, name: string): string[] {
  const out: string[] = [];
  if (!header) return out;
  const length = header.length;
  let start = 0;
  while (start < length && out.length < MAX_CANDIDATES) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (
        value.length > 1 &&
        value.charCodeAt(0) === 34 &&
        value.charCodeAt(value.length - 1) === 34
      ) {
        value = value.slice(1, -1);
      }
      out.push(value);
    }
    start = end + 1;
  }
  return out;
}

export interface SetCookieAttributes {
  readonly path: string;
  readonly domain?: string | undefined;
  readonly maxAge?: number | undefined;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly partitioned: boolean;
}

const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const;

// Every cookie set within one second with the same Max-Age expires at the same second: format
// that date once, not on every response.
let lastSecond = -1;
let lastDate = '';
function httpDate(epochSecond: number): string {
  if (epochSecond !== lastSecond) {
    lastDate = new Date(epochSecond * 1000).toUTCString();
    lastSecond = epochSecond;
  }
  return lastDate;
}

/** A Set-Cookie header value. Callers pass only validated names and base64url values. */
export function serializeCookie(name: string, value: string, attrs: SetCookieAttributes): string {
  let out = `${name}=${value}; Path=${attrs.path}`;
  if (attrs.domain) out += `; Domain=${attrs.domain}`;
  if (attrs.maxAge !== undefined) {
    const seconds = Math.max(0, Math.floor(attrs.maxAge / 1000));
    // Expires as well as Max-Age: a few old clients honour only Expires; 0 means "delete now".
    const expires = seconds === 0 ? 0 : Math.floor((Date.now() + seconds * 1000) / 1000);
    out += `; Max-Age=${seconds}; Expires=${httpDate(expires)}`;
  }
  if (attrs.httpOnly) out += '; HttpOnly';
  if (attrs.secure) out += '; Secure';
  out += `; SameSite=${SAME_SITE[attrs.sameSite]}`;
  if (attrs.partitioned) out += '; Partitioned';
  return out;
}

/** RFC 6265 4.1.1 cookie-name: an RFC 7230 token. */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 domain-value, with an optional leading dot. */
export const COOKIE_DOMAIN =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** RFC 6265 path-value: any CHAR except CTLs or ";". */
export const COOKIE_PATH = /^\/[\x20-\x3a\x3c-\x7e]*$/;
