/** Validation of the cookie settings (`createSessions({ cookie })`) against RFC 6265bis. */
import type { CookieOptions, defaults, ResolvedCookie } from '../options.ts';
import { fail, refuseUnknown } from './config-error.ts';
import { COOKIE_DOMAIN, COOKIE_NAME, COOKIE_PATH } from './cookie.ts';

const COOKIE_HINTS: Readonly<Record<string, string>> = {
  maxAge:
    "use idleTimeout / absoluteTimeout: the cookie's Max-Age follows the server's expiry (persistent: false for a browser-session cookie)",
  expires: "use idleTimeout / absoluteTimeout: the cookie's Max-Age follows the server's expiry",
  httpOnly:
    'remove it: the session cookie is always HttpOnly (no script ever needs the token; read session data through your server)',
  signed: 'remove it: the cookie is always signed (or sealed with cookieStore)',
  priority: 'not supported',
};
const KNOWN_COOKIE = new Set([
  'name',
  'path',
  'domain',
  'sameSite',
  'secure',
  'partitioned',
  'persistent',
]);

/** The cookie settings in force: `cookie` over `d` (`defaults.cookie`), checked and frozen. */
export function resolveCookie(
  cookie: CookieOptions = {},
  d: typeof defaults.cookie,
): ResolvedCookie {
  if (typeof cookie !== 'object' || cookie === null)
    fail('cookie must be an object of cookie settings');
  refuseUnknown(cookie, KNOWN_COOKIE, COOKIE_HINTS, 'cookie.');
  const resolved: ResolvedCookie = {
    name: cookie.name ?? d.name,
    path: cookie.path ?? d.path,
    domain: cookie.domain,
    sameSite: cookie.sameSite ?? d.sameSite,
    secure: cookie.secure ?? d.secure,
    partitioned: cookie.partitioned ?? d.partitioned,
    persistent: cookie.persistent ?? d.persistent,
  };
  const { name, path, domain, sameSite, secure, partitioned } = resolved;
  if (!COOKIE_NAME.test(name))
    fail(
      `cookie.name ${JSON.stringify(name)} is not a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~)`,
    );
  if (!COOKIE_PATH.test(path))
    fail(
      `cookie.path must start with "/" and contain no ";" or control characters; got ${JSON.stringify(path)}`,
    );
  if (domain !== undefined && !COOKIE_DOMAIN.test(domain))
    fail(`cookie.domain ${JSON.stringify(domain)} is not a valid domain`);
  if (!['lax', 'strict', 'none'].includes(sameSite))
    fail(`cookie.sameSite must be 'lax', 'strict' or 'none'; got ${JSON.stringify(sameSite)}`);
  if (secure !== true && secure !== false && secure !== 'auto')
    fail(`cookie.secure must be true, false or 'auto'`);
  // RFC 6265bis 4.1.3: the prefixes are promises the browser enforces; a violating cookie is
  // dropped. Browsers match them case-insensitively (RFC 6265bis 5.6 step 21), so must we.
  const lower = name.toLowerCase();
  if (lower.startsWith('__host-') && (secure !== true || path !== '/' || domain !== undefined)) {
    fail(
      `cookie.name starts with __Host-, which requires secure: true, path: '/' and no domain (RFC 6265bis 4.1.3.2)`,
    );
  }
  if (lower.startsWith('__secure-') && secure !== true) {
    fail(`cookie.name starts with __Secure-, which requires secure: true (RFC 6265bis 4.1.3.1)`);
  }
  // Browsers reject SameSite=None and Partitioned cookies that are not Secure.
  if (sameSite === 'none' && secure === false)
    fail(`cookie.sameSite 'none' requires secure: true (or 'auto' over HTTPS)`);
  if (partitioned && secure === false) fail(`cookie.partitioned requires secure: true`);
  return Object.freeze(resolved);
}
