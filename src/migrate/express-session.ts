import { createHmac, timingSafeEqual } from 'node:crypto';
import { SessionConfigError, SessionStoreError } from '../errors.ts';
import { readCookie } from '../lib/cookie.ts';
import type { Session } from '../session/session.ts';

/**
 * What the bridge needs of an express-session store: the two callback methods every store
 * implements (MemoryStore, connect-redis, connect-pg-simple, connect-mongo, …). Structural, so
 * the bridge needs neither express-session nor its types installed.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis';
 * const oldStore: ExpressSessionStore = new RedisStore({ client: redisClient });
 * ```
 */
export interface ExpressSessionStore {
  get(sid: string, callback: (err: unknown, session?: ExpressSessionRecord | null) => void): void;
  destroy(sid: string, callback?: (err?: unknown) => void): void;
}

/**
 * A record as express-session stores it: the app's data beside a `cookie` object.
 *
 * @example
 * ```ts
 * const record: ExpressSessionRecord = { cookie: { expires: null }, userId: 'u1', cart: ['sku-1'] };
 * ```
 */
export interface ExpressSessionRecord {
  readonly cookie?: { readonly expires?: string | Date | null } | undefined;
  readonly [key: string]: unknown;
}

/**
 * What an old record becomes in tessera: data to `set` and the user to `login`.
 *
 * @example
 * ```ts
 * const moved: MigratedSession = { data: { cart: ['sku-1'] }, userId: 'u1' };
 * ```
 */
export interface MigratedSession {
  readonly data: Record<string, unknown>;
  readonly userId?: string | null | undefined;
}

/**
 * Options of {@link expressSessionBridge}.
 *
 * @example
 * ```ts
 * expressSessionBridge({ store: oldStore, secret: process.env.OLD_SESSION_SECRET! });
 * ```
 */
export interface ExpressSessionBridgeOptions {
  /** The express-session store the old sessions live in. Required. */
  readonly store: ExpressSessionStore;
  /**
   * express-session's `secret` (a string or the same array, newest first). Required: an unsigned
   * or wrongly signed `connect.sid` is ignored, exactly as express-session would ignore it.
   */
  readonly secret: string | readonly string[];
  /** express-session's `name`. Default `'connect.sid'`, express-session's own default. */
  readonly name?: string;
  /**
   * Where the old cookie was set, so the expiring `Set-Cookie` matches it (a browser only
   * replaces a cookie of the same name, path and domain). Default `{ path: '/' }`,
   * express-session's default.
   */
  readonly cookie?: { readonly path?: string; readonly domain?: string };
  /**
   * Turn an old record into tessera's data and user. Default: every key but `cookie` and
   * `passport` becomes data, and Passport's `passport.user` (a string or number) becomes the
   * user: the convention most express-session apps follow. Return `null` to drop the record.
   */
  readonly map?: (record: ExpressSessionRecord) => MigratedSession | null;
  /** The clock, for records whose `cookie.expires` has passed. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * What {@link ExpressSessionBridge.migrate} did on one request.
 *
 * @example
 * ```ts
 * const moved = await bridge.migrate(req.headers.cookie, session);
 * if (moved) { res.append('set-cookie', moved.expireCookie); res.once('finish', () => void moved.deleteOld()); }
 * ```
 */
export interface Migration {
  /** `true` when the old record's data and user were copied into the tessera session. */
  readonly copied: boolean;
  /** A `Set-Cookie` value that expires the old cookie: add it to the response. */
  readonly expireCookie: string;
  /**
   * Delete the old record from the old store. Call it once the response (and so tessera's
   * commit) succeeded: deleting first would log the user out if tessera's store write failed.
   * Never rejects (an old store that cannot delete leaves a record that expires by itself).
   */
  deleteOld(): Promise<void>;
}

/**
 * The bridge: reads a request's express-session, if any, into the tessera session.
 *
 * @example
 * ```ts
 * const moved = await bridge.migrate(request.headers.get('cookie'), await session());
 * ```
 */
export interface ExpressSessionBridge {
  /** The old cookie's name (`connect.sid` by default). */
  readonly name: string;
  /**
   * Does this `Cookie` header carry the old cookie? A string scan, no I/O: check it before
   * loading the tessera session so requests without it cost nothing.
   */
  carries(cookieHeader: string | null | undefined): boolean;
  /**
   * When the request carries a validly signed old cookie: copy its record into `session`
   * (only if `session` is new: a visitor who already has a tessera session keeps it), log its
   * user in (which regenerates the tessera token), and hand back the cookie to expire and the
   * deletion to run after the response. `null` when there is no old cookie at all. A forged,
   * unknown or expired old cookie is still expired (`copied: false`).
   */
  migrate<Data extends object>(
    cookieHeader: string | null | undefined,
    session: Session<Data>,
  ): Promise<Migration | null>;
}

function defaultMap(record: ExpressSessionRecord): MigratedSession {
  const { cookie: _cookie, passport, ...data } = record;
  const user = (passport as { user?: unknown } | undefined)?.user;
  return {
    data,
    userId: typeof user === 'string' || typeof user === 'number' ? String(user) : null,
  };
}

// cookie-signature's format, which express-session uses: `s:` + sid + '.' + base64(HMAC-SHA256)
// without padding. Every secret is tried, as express-session does during its own rotation.
function unsign(value: string, secrets: readonly string[]): string | null {
  if (!value.startsWith('s:')) return null;
  const signed = value.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const sid = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(
      createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''),
    );
    if (expected.length === given.length && timingSafeEqual(expected, given)) return sid;
  }
  return null;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A bridge from express-session: logged-in users stay logged in across the switch. On a request
 * with a valid `connect.sid` (signed with the old secret) it reads the record through the old
 * store's own interface, creates the tessera session with the same data and user, expires the
 * old cookie, and deletes the old record once the response succeeded. Run it for as long as old
 * cookies can still arrive (express-session's `maxAge`), then remove it.
 *
 * Express users take {@link migrateExpressSession}; on any other framework call `migrate()`
 * with the request's `Cookie` header and the tessera session, as the example shows.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis';
 * import { expressSessionBridge } from 'tessera-session/migrate';
 *
 * const bridge = expressSessionBridge({ store: new RedisStore({ client }), secret: process.env.OLD_SECRET! });
 * // A fetch-style handler:
 * if (bridge.carries(request.headers.get('cookie'))) {
 *   const moved = await bridge.migrate(request.headers.get('cookie'), await session());
 *   // add moved.expireCookie to the response; await moved.deleteOld() after it succeeded
 * }
 * ```
 */
export function expressSessionBridge(options: ExpressSessionBridgeOptions): ExpressSessionBridge {
  const { store, secret, name = 'connect.sid', cookie = {}, map = defaultMap, now } = options;
  if (typeof store?.get !== 'function' || typeof store.destroy !== 'function')
    throw new SessionConfigError(
      'expressSessionBridge: store must be the express-session store the old sessions live in (an object with get(sid, cb) and destroy(sid, cb)), e.g. new RedisStore({ client })',
    );
  const secrets = typeof secret === 'string' ? [secret] : [...(secret ?? [])];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0))
    throw new SessionConfigError(
      "expressSessionBridge: secret must be express-session's old secret (a non-empty string, or the same array of strings)",
    );
  const clock = now ?? Date.now;
  const path = cookie.path ?? '/';
  const expireCookie =
    `${name}=; Path=${path}` +
    (cookie.domain ? `; Domain=${cookie.domain}` : '') +
    '; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly';

  const read = (sid: string) =>
    new Promise<ExpressSessionRecord | null>((resolve, reject) =>
      store.get(sid, (err, record) =>
        err
          ? reject(new SessionStoreError('the old express-session store failed', { cause: err }))
          : resolve(record ?? null),
      ),
    );
  const destroy = (sid: string) =>
    new Promise<void>((resolve) => {
      try {
        store.destroy(sid, () => resolve());
      } catch {
        resolve();
      }
    });

  return {
    name,
    carries(cookieHeader) {
      return readCookie(cookieHeader, name).length > 0;
    },
    async migrate(cookieHeader, session) {
      const values = readCookie(cookieHeader, name);
      if (values.length === 0) return null;
      let sid: string | null = null;
      for (const value of values) if ((sid = unsign(decode(value), secrets))) break;
      if (sid === null) return { copied: false, expireCookie, deleteOld: async () => {} };
      const found = sid;
      const deleteOld = () => destroy(found);
      if (!session.isNew) return { copied: false, expireCookie, deleteOld };
      // A failing old store rejects here with a SessionStoreError: the request fails (503) rather
      // than silently logging the user out; the old cookie stays for the next try.
      const record = await read(found);
      const expires = record?.cookie?.expires;
      if (!record || (expires != null && new Date(expires).getTime() <= clock()))
        return { copied: false, expireCookie, deleteOld };
      const moved = map(record);
      if (!moved) return { copied: false, expireCookie, deleteOld };
      const target = session as unknown as Session<Record<string, unknown>>;
      for (const [key, value] of Object.entries(moved.data))
        if (value !== undefined && !key.startsWith('$')) target.set(key, value);
      if (moved.userId) session.login(moved.userId);
      return { copied: true, expireCookie, deleteOld };
    },
  };
}
