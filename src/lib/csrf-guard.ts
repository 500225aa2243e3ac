/**
 * The framework-free half of CSRF protection, shared by every adapter: which requests need a
 * check, and whether their origin may make them. The token half is `Session.verifyCsrfToken`.
 */

/** RFC 9110 9.2.1: safe methods do not change state, so they need no token. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function isSafeMethod(method: string): boolean {
  return SAFE.has(method.toUpperCase());
}

/** Options every adapter's CSRF guard accepts. */
export interface CsrfGuardOptions {
  /** Other origins allowed to post to this app (e.g. `https://admin.example.com`). Default none. */
  readonly trustedOrigins?: readonly string[];
  /** Form field carrying the token. Default `_csrf`. */
  readonly field?: string;
  /** Header carrying the token (for fetch/XHR). Default `x-csrf-token`. */
  readonly header?: string;
}

export interface OriginFacts {
  /** The `Origin` header, if any. */
  readonly origin: string | undefined;
  /** The `Sec-Fetch-Site` header, if any. */
  readonly secFetchSite: string | undefined;
  /** This app's own origin as the request addressed it, e.g. `https://example.com`. */
  readonly self: string;
}

/**
 * May a state-changing request with these headers proceed to the token check? Browsers send
 * `Sec-Fetch-Site` and `Origin` on unsafe requests and scripts cannot forge them, so a
 * cross-site form post is refused before its token is even read (OWASP CSRF cheat sheet:
 * "verifying origin with standard headers", defence in depth with the synchronizer token).
 * Requests carrying neither header (old browsers, non-browser clients) still need the token.
 */
export function originAllowed(facts: OriginFacts, trusted: readonly string[] = []): boolean {
  const { origin, secFetchSite, self } = facts;
  if (origin !== undefined) {
    // "null" is what sandboxed frames and some redirects send: never trust it.
    return origin === self || trusted.includes(origin);
  }
  if (secFetchSite !== undefined) return secFetchSite === 'same-origin' || secFetchSite === 'none';
  return true;
}
