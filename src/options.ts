import type { KeyObject } from 'node:crypto';
import type { SessionEvent } from './events.ts';
import { fail, refuseUnknown } from './lib/config-error.ts';
import { resolveCookie } from './lib/cookie-options.ts';
import { type Duration, parseDuration } from './lib/duration.ts';
import { importSecrets } from './lib/token.ts';
import { resolveToken } from './lib/token-options.ts';
import type { SealedStore, SessionStore } from './store.ts';

/**
 * Cookie settings. Every field is optional; see {@link defaults} for the values and reasons.
 *
 * @example
 * ```ts
 * createSessions({ secrets, store, cookie: { name: '__Host-sid', sameSite: 'strict' } });
 * ```
 */
export interface CookieOptions {
  /** Cookie name. `__Host-` and `__Secure-` prefixes are checked against their rules. */
  readonly name?: string;
  readonly path?: string;
  /** Omitted by default: a host-only cookie is not sent to sibling subdomains. */
  readonly domain?: string;
  readonly sameSite?: 'lax' | 'strict' | 'none';
  /** `true` always; `'auto'` follows the request's scheme (behind a proxy: the adapter's `trustProxy`). */
  readonly secure?: boolean | 'auto';
  /** CHIPS: a cookie partitioned by top-level site, for third-party embeds. Requires `secure`. */
  readonly partitioned?: boolean;
  /** `false`: a browser-session cookie (no Max-Age), dropped when the browser closes. */
  readonly persistent?: boolean;
}

/**
 * The session token in a request header, for API and mobile clients (Spring Session's
 * `HeaderHttpSessionIdResolver`). A request that carries the header is authenticated by it
 * alone: its cookie is not read, no `Set-Cookie` is sent, and the CSRF guards let it through
 * (a browser never attaches such a header to a cross-site request). See docs/tokens.md.
 *
 * @example
 * ```ts
 * createSessions({ secrets, store, token: { header: 'authorization' } }); // Authorization: Bearer <token>
 * createSessions({ secrets, store, token: { header: 'x-session-token', cookie: true } }); // and browsers keep the cookie
 * ```
 */
export interface TokenOptions {
  /**
   * The request header the client sends its token in: `'authorization'` means
   * `Authorization: Bearer <token>` (RFC 6750); any other name (e.g. `'x-session-token'`) carries
   * the token as is.
   */
  readonly header: string;
  /**
   * The response header a new token is sent in (new session, regenerate, login) and that is sent
   * empty when the session ends (destroy, logout). Default: the request header's own name, and
   * `'x-session-token'` for `'authorization'` (a response has no Authorization header).
   */
  readonly responseHeader?: string;
  /**
   * Also keep the cookie, for requests that do not carry the header (a browser app beside the
   * API clients). Default `false`: header only, no request reads or sets a cookie.
   */
  readonly cookie?: boolean;
}

/**
 * Options of {@link createSessions}.
 *
 * @example
 * ```ts
 * const options: SessionsOptions = { secrets: [process.env.SESSION_SECRET!], store: memoryStore(), idleTimeout: '30m' };
 * const sessions = createSessions(options);
 * ```
 */
export interface SessionsOptions {
  /**
   * Secrets that sign cookies (and, with `cookieStore`, derive the sealing key). The first signs;
   * all verify, so a new secret goes first and the old one stays until its cookies have expired.
   * Each must be at least 32 bytes.
   */
  readonly secrets: readonly (string | Uint8Array)[];
  /** Where sessions live: `memoryStore()`, `sqliteStore()`, `postgresStore()`, `redisStore()`, `cookieStore()`. */
  readonly store: SessionStore | SealedStore;
  readonly cookie?: CookieOptions;
  /** Carry the token in a request header instead of (or beside) the cookie. Default: cookie only. */
  readonly token?: TokenOptions;
  /** Idle (sliding) timeout: a session unused this long dies. */
  readonly idleTimeout?: Duration;
  /** Absolute timeout: a session dies this long after it was created, however active. */
  readonly absoluteTimeout?: Duration;
  /** A request that changes nothing extends the idle timeout at most once per this interval. */
  readonly touchAfter?: Duration;
  /** Sessions one user may hold; at login past the bound the oldest ends. Default: unbounded. */
  readonly maxSessionsPerUser?: number;
  /** Record the user agent and IP at creation (for a "your devices" page). */
  readonly trackMeta?: boolean;
  /** The clock, in epoch ms. Inject one in tests instead of sleeping. */
  readonly now?: () => number;
  /**
   * Audit hook: created, regenerated, destroyed, expired, revoked, refused (a cookie that did not
   * open a session, with the reason), store-unavailable / store-recovered. Carries hashed ids only.
   */
  readonly onEvent?: (event: SessionEvent) => void;
  /**
   * Where tessera writes the few lines an operator needs: the first store failure of an outage and
   * the recovery (once each), a Secure cookie sent to a plain-HTTP origin (once, outside
   * production), and with `debug` why each refused cookie was refused. Default `console`;
   * `false` writes nothing.
   */
  readonly logger?: SessionLogger | false;
  /** Log why each refused cookie was refused (`logger.debug`). Default `false`: it is per request. */
  readonly debug?: boolean;
}

/**
 * The logging methods tessera uses (`console`, pino and winston loggers all fit).
 *
 * @example
 * ```ts
 * createSessions({ secrets, store, logger: pino(), debug: process.env.DEBUG_SESSIONS === '1' });
 * ```
 */
export interface SessionLogger {
  error(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  debug(message: string, ...details: unknown[]): void;
}

/**
 * The defaults, frozen, with the reason for each.
 *
 * @example
 * ```ts
 * import { defaults } from 'tessera-session';
 * console.log(defaults.idleTimeout); // '2h'
 * ```
 */
export const defaults = Object.freeze({
  cookie: Object.freeze({
    /** Short and generic: the name should not advertise the framework. */
    name: 'sid',
    /** The whole site; narrower paths are a common cause of "lost" sessions. */
    path: '/',
    /** Lax: sent on top-level navigation (links into the site keep working), not on cross-site POSTs. */
    sameSite: 'lax' as const,
    /** Never sent over plain HTTP; browsers treat http://localhost as secure, so development works. */
    secure: true as boolean | 'auto',
    partitioned: false,
    /** Max-Age follows the server's expiry, so the browser drops the cookie when the server would. */
    persistent: true,
  }),
  /**
   * Cookie only. A header token (`token: { header }`) is for clients that are not browsers: a
   * browser keeps an HttpOnly cookie out of reach of scripts, a header token lives in app code.
   */
  token: null,
  /** Long enough to keep a cart over lunch, short enough that a forgotten session dies the same day. */
  idleTimeout: '2h',
  /** A stolen cookie stops working within a day however it is used (OWASP: set an absolute timeout). */
  absoluteTimeout: '24h',
  /** One write a minute at most for a session that is only read: cheap for stores, exact enough for expiry. */
  touchAfter: '1m',
  trackMeta: true,
});

/**
 * The cookie settings in force (`sessions.options.cookie`), e.g. for an adapter that expires the
 * cookie itself.
 *
 * @example
 * ```ts
 * const { name, path, domain } = sessions.options.cookie;
 * ```
 */
export interface ResolvedCookie {
  readonly name: string;
  readonly path: string;
  readonly domain: string | undefined;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly secure: boolean | 'auto';
  readonly partitioned: boolean;
  readonly persistent: boolean;
}

/**
 * The header-token settings in force (`sessions.options.token`), e.g. for a CORS set-up that must
 * list the response header in `Access-Control-Allow-Headers` / `Access-Control-Expose-Headers`.
 *
 * @example
 * ```ts
 * const { header, responseHeader } = sessions.options.token ?? {};
 * ```
 */
export interface ResolvedToken {
  /** The request header, lower case. */
  readonly header: string;
  /** `true` for `authorization`: the value is `Bearer <token>`. */
  readonly bearer: boolean;
  /** The response header, lower case. */
  readonly responseHeader: string;
  /** Whether requests without the header still use the cookie. */
  readonly cookie: boolean;
}

/**
 * The settings a manager runs with, as `sessions.options` shows them (frozen). Nothing secret:
 * the secrets, keys and the store stay inside the manager.
 *
 * @example
 * ```ts
 * const { cookie, idleTimeout } = sessions.options; // e.g. for a "session expires in" banner
 * ```
 */
export interface ResolvedOptions {
  readonly cookie: ResolvedCookie;
  /** The header token, or `null`: cookie only. */
  readonly token: ResolvedToken | null;
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  readonly touchAfter: number;
  readonly maxSessionsPerUser: number;
  readonly trackMeta: boolean;
}

/** @internal everything the manager keeps, secrets included; never handed out. */
export interface InternalOptions extends ResolvedOptions {
  readonly keys: readonly KeyObject[];
  readonly secrets: readonly Uint8Array[];
  readonly store: SessionStore | SealedStore;
  readonly persistent: boolean;
  readonly now: () => number;
  readonly onEvent: ((event: SessionEvent) => void) | undefined;
  readonly logger: SessionLogger | null;
  readonly debug: boolean;
  /** The public view, frozen. */
  readonly view: ResolvedOptions;
}

const GENERATE = `generate one with: node -p "crypto.randomBytes(32).toString('base64url')"`;

/** Secrets printed in tessera's own docs: fine for a first run, never for a deployment. */
const SAMPLE_SECRETS = new Set(['development-only-secret-0123456789abcdef']);

/**
 * Why a secret of 32+ bytes is still obviously weak, or `null`: one byte repeated, too few
 * distinct bytes to be random (a random base64url secret of 32 characters has ~25; a hex one
 * up to 16), or a sample from the docs.
 */
export function weakSecret(bytes: Uint8Array): string | null {
  if (SAMPLE_SECRETS.has(Buffer.from(bytes).toString('utf8')))
    return 'it is the sample secret from the docs';
  const distinct = new Set(bytes).size;
  if (distinct === 1) return 'it is one character repeated';
  if (distinct < 10) return `it has only ${distinct} distinct bytes, so it is not random`;
  return null;
}

function resolveSecrets(
  secrets: unknown,
  production: boolean,
  logger: SessionLogger | null,
): Uint8Array[] {
  if (secrets === undefined || (Array.isArray(secrets) && secrets.some((s) => s === undefined))) {
    fail(
      `secrets is undefined: is the environment variable you read it from (e.g. SESSION_SECRET) set? secrets: [process.env.SESSION_SECRET] needs it; ${GENERATE}`,
    );
  }
  if (!Array.isArray(secrets) || secrets.length === 0) {
    fail(`secrets must be a non-empty array of strings of at least 32 bytes; ${GENERATE}`);
  }
  return secrets.map((secret, i) => {
    const bytes =
      typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : secret instanceof Uint8Array
          ? Buffer.from(secret)
          : fail(`secrets[${i}] must be a string or a Uint8Array; ${GENERATE}`);
    if (bytes.length < 32)
      fail(`secrets[${i}] is ${bytes.length} bytes; it must be at least 32 bytes; ${GENERATE}`);
    const weak = weakSecret(bytes);
    if (weak !== null) {
      const message = `secrets[${i}] is weak: ${weak}; ${GENERATE}`;
      // Refused where it matters; a warning elsewhere, so tests and first runs keep working.
      if (production) fail(`${message} (refused because NODE_ENV=production)`);
      if (process.env['NODE_ENV'] !== 'test') logger?.warn(`tessera: ${message}`);
    }
    return bytes;
  });
}

/** Options other session libraries take, and what tessera does instead. */
const MIGRATION_HINTS: Readonly<Record<string, string>> = {
  secret: 'use secrets: [secret] (a list: the first signs, all verify, so a secret can be rotated)',
  keys: 'use secrets: [...] (the first signs, all verify)',
  password: 'use secrets: [...] (the first signs or seals, all verify)',
  resave: 'remove it: tessera writes only what a request changed, never the whole session',
  saveUninitialized: 'remove it: a session is stored only once it holds data (or a user)',
  rolling: 'remove it: the idle timeout slides by itself, written at most once per touchAfter',
  name: "use cookie: { name } (the default is 'sid')",
  cookieName: "use cookie: { name } (the default is 'sid')",
  cookieOptions: 'use cookie: { ... }',
  genid:
    'remove it: tokens are always 32 bytes from the CSPRNG, and the store sees only their hash',
  maxAge: "use idleTimeout (and absoluteTimeout): the cookie's Max-Age follows the server's expiry",
  ttl: 'use idleTimeout (and absoluteTimeout)',
  proxy:
    'trustProxy is an option of the adapter (e.g. withSessions(sessions, handler, { trustProxy: true }))',
  unset: 'remove it: session.destroy() deletes the record',
  secure: 'use cookie: { secure }',
  domain: 'use cookie: { domain }',
  path: 'use cookie: { path }',
  sameSite: 'use cookie: { sameSite }',
};
const KNOWN = new Set([
  'secrets',
  'store',
  'cookie',
  'token',
  'idleTimeout',
  'absoluteTimeout',
  'touchAfter',
  'maxSessionsPerUser',
  'trackMeta',
  'now',
  'onEvent',
  'logger',
  'debug',
]);

function isStore(store: unknown): store is SessionStore | SealedStore {
  if (typeof store !== 'object' || store === null) return false;
  const s = store as Record<string, unknown>;
  if (s['kind'] === 'sealed') return typeof s['bind'] === 'function';
  return [
    'get',
    'create',
    'update',
    'regenerate',
    'touch',
    'destroy',
    'listByUser',
    'destroyByUser',
  ].every((m) => typeof s[m] === 'function');
}

function resolveLogger(logger: unknown): SessionLogger | null {
  if (logger === undefined) return console;
  if (logger === false) return null;
  const l = logger as Record<string, unknown> | null;
  if (
    typeof l !== 'object' ||
    l === null ||
    !['error', 'warn', 'info', 'debug'].every((m) => typeof l[m] === 'function')
  )
    fail(
      'logger must have error, warn, info and debug methods (console, pino and winston do), or be false',
    );
  return logger as SessionLogger;
}

/** Validate and freeze options. Every problem is an `ERR_SESSION_CONFIG` that says how to fix it. */
export function resolveOptions(options: SessionsOptions): InternalOptions {
  if (typeof options !== 'object' || options === null)
    fail('createSessions needs an options object: { secrets, store }');
  refuseUnknown(options, KNOWN, MIGRATION_HINTS, '');
  const logger = resolveLogger(options.logger);
  if (options.debug !== undefined && typeof options.debug !== 'boolean')
    fail('debug must be a boolean');
  const secrets = resolveSecrets(options.secrets, process.env['NODE_ENV'] === 'production', logger);
  if (!isStore(options.store)) {
    fail(
      `store is required: memoryStore() from 'tessera-session', sqliteStore() from 'tessera-session/sqlite', postgresStore() from 'tessera-session/postgres', redisStore() from 'tessera-session/redis' or cookieStore() from 'tessera-session'`,
    );
  }
  const idleTimeout = parseDuration(options.idleTimeout ?? defaults.idleTimeout, 'idleTimeout');
  const absoluteTimeout = parseDuration(
    options.absoluteTimeout ?? defaults.absoluteTimeout,
    'absoluteTimeout',
  );
  const touchAfter = parseDuration(
    options.touchAfter ??
      Math.min(parseDuration(defaults.touchAfter, 'touchAfter'), Math.floor(idleTimeout / 4)),
    'touchAfter',
  );
  if (idleTimeout < 1000) fail(`idleTimeout must be at least 1s; got ${idleTimeout} ms`);
  if (absoluteTimeout < idleTimeout)
    fail(
      `absoluteTimeout (${absoluteTimeout} ms) must be at least idleTimeout (${idleTimeout} ms)`,
    );
  if (touchAfter >= idleTimeout)
    fail(
      `touchAfter (${touchAfter} ms) must be shorter than idleTimeout (${idleTimeout} ms), or sessions expire while in use`,
    );
  const max = options.maxSessionsPerUser ?? Number.POSITIVE_INFINITY;
  if (!(max === Number.POSITIVE_INFINITY || (Number.isInteger(max) && max >= 1)))
    fail(`maxSessionsPerUser must be a positive integer; got ${max}`);
  if (options.now !== undefined && typeof options.now !== 'function')
    fail('now must be a function returning epoch milliseconds');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    fail('onEvent must be a function');
  const cookie = resolveCookie(options.cookie, defaults.cookie);
  const token = resolveToken(options.token);
  const view: ResolvedOptions = Object.freeze({
    cookie,
    token,
    idleTimeout,
    absoluteTimeout,
    touchAfter,
    maxSessionsPerUser: max,
    trackMeta: options.trackMeta ?? defaults.trackMeta,
  });
  return Object.freeze({
    ...view,
    keys: Object.freeze(importSecrets(secrets)),
    secrets: Object.freeze(secrets),
    store: options.store,
    persistent: cookie.persistent,
    now: options.now ?? Date.now,
    onEvent: options.onEvent,
    logger,
    debug: options.debug ?? false,
    view,
  });
}
