import { CsrfError } from '../errors.ts';
import type { SessionTransport } from '../lifecycle/transport.ts';
import type { Session } from '../session/session.ts';

/** RFC 9110 9.2.1: safe methods do not change state, so they need no token. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Does this method change state (and so need the CSRF check)?
 *
 * @example
 * ```ts
 * if (isSafeMethod(req.method)) return next();
 * ```
 */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method.toUpperCase());
}

/**
 * Options every CSRF guard accepts.
 *
 * @example
 * ```ts
 * csrfProtection({ trustedOrigins: ['https://admin.example.com'] });
 * ```
 */
export interface CsrfOptions {
  /** Other origins allowed to post to this app (e.g. `https://admin.example.com`). Default none. */
  readonly trustedOrigins?: readonly string[];
  /** Form field carrying the token. Default `_csrf` (what most form helpers name it). */
  readonly field?: string;
  /** Header carrying the token (for fetch/XHR). Default `x-csrf-token`. */
  readonly header?: string;
}

/**
 * What the CSRF check needs to know about a request: its method, this app's own origin as the
 * request addressed it (from the same forwarded facts as the session), and three headers.
 *
 * @example
 * ```ts
 * const facts: CsrfFacts = { method: 'POST', self: 'https://example.com', origin: req.headers.origin, secFetchSite: undefined, referer: undefined };
 * ```
 */
export interface CsrfFacts {
  readonly method: string;
  /** This app's own origin, e.g. `https://example.com` (see `ownOrigin`). */
  readonly self: string;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
  readonly referer: string | undefined;
  /**
   * How the request's session token travels (`RequestSession.transport`, `session.transport`).
   * `'header'` passes the check: see {@link headerAuthenticated}.
   */
  readonly transport?: SessionTransport | undefined;
}

/**
 * Whether the request's session came from a header token (`token: { header }`), which needs no
 * CSRF check. CSRF works because a browser attaches the cookie to a request another site makes;
 * it never attaches a custom header or `Authorization: Bearer` to one: a cross-site form cannot
 * set headers, and a cross-origin `fetch` that sets them is preflighted and refused unless this
 * app's CORS policy allows it. Such a request never reads its cookie, so there is no ambient
 * credential to ride on. Cookie requests are checked in full, also when a header token is
 * configured.
 *
 * @example
 * ```ts
 * if (headerAuthenticated(facts, session)) return next();
 * ```
 */
export function headerAuthenticated(
  facts: Pick<CsrfFacts, 'transport'>,
  session?: Partial<Pick<Session<object>, 'transport'>>,
): boolean {
  return facts.transport === 'header' || session?.transport === 'header';
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Why a state-changing request with these headers may not proceed to the token check, or `null`
 * when it may. Browsers send `Origin` and `Sec-Fetch-Site` on unsafe requests and scripts cannot
 * forge them, so a cross-site form post is refused before its token is read (OWASP CSRF cheat
 * sheet, "verifying origin with standard headers", defence in depth with the token). With
 * neither (old browsers, privacy proxies), a `Referer` naming another origin is refused too
 * (same sheet, "Referer"); a request carrying none of the three still needs the token.
 *
 * @example
 * ```ts
 * const why = csrfOriginRefusal(facts, ['https://admin.example.com']);
 * ```
 */
export function csrfOriginRefusal(
  facts: Omit<CsrfFacts, 'method'>,
  trusted: readonly string[] = [],
): string | null {
  const { origin, secFetchSite, referer, self } = facts;
  // "null" is what sandboxed frames and some redirects send: never trusted.
  if (origin !== undefined)
    return origin === self || trusted.includes(origin) ? null : 'cross-origin request refused';
  if (secFetchSite !== undefined)
    return secFetchSite === 'same-origin' || secFetchSite === 'none'
      ? null
      : 'cross-site request refused';
  if (referer !== undefined && referer !== '') {
    const from = originOf(referer);
    if (from === undefined || (from !== self && !trusted.includes(from)))
      return 'cross-origin Referer refused';
  }
  return null;
}

/**
 * The one method of the session the check needs.
 *
 * @example
 * ```ts
 * const verifier: CsrfVerifier = await req.session();
 * ```
 */
export type CsrfVerifier = Pick<Session<object>, 'verifyCsrfToken'> &
  Partial<Pick<Session<object>, 'transport'>>;

/**
 * The whole CSRF check, for a request whose token is already at hand: a safe method passes; the
 * origin must be this app's (or trusted, see {@link csrfOriginRefusal}); the token must verify
 * for this session. Throws `CsrfError` (403, `ERR_SESSION_CSRF`).
 *
 * @example
 * ```ts
 * assertCsrf(facts, req.headers['x-csrf-token'] ?? form.get('_csrf'), session);
 * ```
 */
export function assertCsrf(
  facts: CsrfFacts,
  token: unknown,
  session: CsrfVerifier,
  options: Pick<CsrfOptions, 'trustedOrigins'> = {},
): void {
  if (isSafeMethod(facts.method) || headerAuthenticated(facts, session)) return;
  const refusal = csrfOriginRefusal(facts, options.trustedOrigins);
  if (refusal) throw new CsrfError(refusal);
  if (!session.verifyCsrfToken(token)) throw new CsrfError('missing or invalid CSRF token');
}

/**
 * The whole CSRF check for a guard that reads the token itself: the origin is checked first, so
 * a cross-origin request is refused before its body is read or its session loaded; then the
 * token (`readToken`: the header, else the form field) must verify for the session.
 *
 * @example
 * ```ts
 * await verifyCsrf(facts, () => req.get('x-csrf-token') ?? req.body?._csrf, () => req.session());
 * ```
 */
export async function verifyCsrf(
  facts: CsrfFacts,
  readToken: () => unknown,
  session: () => CsrfVerifier | Promise<CsrfVerifier>,
  options: Pick<CsrfOptions, 'trustedOrigins'> = {},
): Promise<void> {
  // A header-token request passes before its body is read (`facts.transport`, known with no I/O).
  if (isSafeMethod(facts.method) || headerAuthenticated(facts)) return;
  const refusal = csrfOriginRefusal(facts, options.trustedOrigins);
  if (refusal) throw new CsrfError(refusal);
  const token = await readToken();
  const verifier = await session();
  if (headerAuthenticated({}, verifier)) return;
  if (!verifier.verifyCsrfToken(token)) throw new CsrfError('missing or invalid CSRF token');
}

const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * The CSRF check for Request/Response code (route handlers, server actions, SvelteKit, h3…):
 * `self` is this app's origin as {@link webForwarded} reads it; the token comes from the header,
 * else from the form field of a urlencoded or multipart body (read from a clone, so the
 * handler can still read the body). Throws `CsrfError`.
 *
 * @example
 * ```ts
 * await checkCsrf(request, await session(), { self: ownOrigin(webForwarded(request)) });
 * ```
 */
export async function checkCsrf(
  request: Request,
  session: CsrfVerifier,
  options: CsrfOptions & { readonly self?: string } = {},
): Promise<void> {
  const { header = 'x-csrf-token', field = '_csrf' } = options;
  const h = request.headers;
  const facts: CsrfFacts = {
    method: request.method,
    self: options.self ?? new URL(request.url).origin,
    origin: h.get('origin') ?? undefined,
    secFetchSite: h.get('sec-fetch-site') ?? undefined,
    referer: h.get('referer') ?? undefined,
    transport: session.transport,
  };
  await verifyCsrf(
    facts,
    async () => {
      const token = h.get(header);
      if (token !== null) return token;
      if (!FORM.test(h.get('content-type') ?? '')) return undefined;
      return (await request.clone().formData()).get(field);
    },
    () => session,
    options,
  );
}
