import { createHmac } from 'node:crypto';
import type { Backend } from '../backends/backend.ts';
import { sealedBackend } from '../backends/sealed.ts';
import { serverBackend } from '../backends/server.ts';
import { SessionConfigError, SessionStateError } from '../errors.ts';
import type { SessionEvent } from '../events.ts';
import { csrfTokenMatches } from '../lib/csrf.ts';
import { withOpenCache } from '../lib/open-cache.ts';
import { type ResolvedOptions, resolveOptions, type SessionsOptions } from '../options.ts';
import { EXEMPT } from '../session/session.ts';
import type { SessionContext } from '../session/state.ts';
import type { SessionData } from '../session/types.ts';
import type { SealedStore, SessionStore } from '../store.ts';
import { storeMonitor } from './monitor.ts';
import type { RequestInfo } from './request.ts';
import { type Core, RequestSession } from './request-session.ts';
import { transports } from './transport.ts';

/**
 * One session as `listSessions` reports it (for a "your active sessions" page).
 *
 * @example
 * ```ts
 * for (const info of await sessions.listSessions(userId)) {
 *   console.log(info.userAgent, new Date(info.lastSeenAt), info.id === session.id ? '(this one)' : '');
 * }
 * ```
 */
export interface SessionInfo {
  /** The public id (hashed key): compare with `session.id` to mark the current one. */
  readonly id: string;
  readonly userId: string | null;
  readonly createdAt: number;
  /** When a request last moved the deadline: exact to `touchAfter` (a minute by default). */
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
}

/**
 * The session manager: made once per app by {@link createSessions}, used by the adapters.
 *
 * @example
 * ```ts
 * const sessions: Sessions<{ cart: string[] }> = createSessions({ secrets, store: memoryStore() });
 * await sessions.revokeUserSessions('user-42');
 * ```
 */
export interface Sessions<Data extends object = SessionData> {
  /** The settings in force, frozen. Holds nothing secret (no secrets, keys or store). */
  readonly options: ResolvedOptions;
  /** Open a request's session. Costs no I/O: the store is read on the first `session()`. */
  request(info: RequestInfo): RequestSession<Data>;
  /** The user's live sessions, most recently used first. Not available with `cookieStore`. */
  listSessions(userId: string): Promise<SessionInfo[]>;
  /** End one session by its public id; with `userId`, only if it belongs to that user. */
  revokeSession(id: string, options?: { readonly userId?: string }): Promise<boolean>;
  /**
   * End all of a user's sessions but `except` (a public id, or the current request's `Session`);
   * resolves how many ended. With `cookieStore` it needs the store's `revocations`, `except` must
   * be the current `Session` (it is regenerated at commit and outlives the revocation; any other
   * request that loaded one of the user's sessions before now cannot), and it resolves 0, since
   * nothing is counted.
   */
  revokeUserSessions(
    userId: string,
    options?: { readonly except?: string | ExceptSession },
  ): Promise<number>;
  /** Resolves when the store answers; rejects with `ERR_SESSION_STORE_UNAVAILABLE` otherwise. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}

/** A request's `Session`, as `revokeUserSessions(userId, { except: session })` takes it. */
interface ExceptSession {
  readonly id: string;
  [EXEMPT](notBefore: number): void;
}

function isSealed(store: SessionStore | SealedStore): store is SealedStore {
  return (store as SealedStore).kind === 'sealed';
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1|[^:]*\.localhost)(?::\d+)?$/i;

/**
 * Create the session manager for an app. Validates every option now: a bad one throws
 * `ERR_SESSION_CONFIG` with the fix in its message, before the server takes a request.
 *
 * @example
 * ```ts
 * import { createSessions, memoryStore } from 'tessera-session';
 *
 * interface Data { cart: string[]; lang: 'en' | 'fr' }
 * const sessions = createSessions<Data>({
 *   secrets: [process.env.SESSION_SECRET!],   // 32+ bytes; add the new one first to rotate
 *   store: memoryStore(),
 *   idleTimeout: '30m',
 * });
 * ```
 */
export function createSessions<Data extends object = SessionData>(
  options: SessionsOptions,
): Sessions<Data> {
  const o = resolveOptions(options);
  const { logger } = o;
  const sealed = isSealed(o.store) ? o.store : null;
  const store = isSealed(o.store) ? null : o.store;
  if (sealed && Number.isFinite(o.maxSessionsPerUser)) {
    // Enforcing it needs the list of a user's sessions, which a stateless store does not have.
    throw new SessionConfigError(
      'maxSessionsPerUser needs a server-side store (memory, sqlite, postgres, redis); cookieStore() keeps no list of sessions',
    );
  }

  function emit(event: SessionEvent) {
    if (o.debug && event.type === 'refused')
      logger?.debug(`tessera: a session cookie was refused (${event.reason})`);
    try {
      o.onEvent?.(event);
    } catch {
      // An audit hook that throws must not fail the visitor's request.
    }
  }
  const monitor = storeMonitor(
    (operation, error) => {
      logger?.error(
        `tessera: the session store failed during ${operation}; requests that need it answer 503 until it is back (reported once per outage)`,
        error.cause ?? error,
      );
      emit({ type: 'store-unavailable', operation, error, at: o.now() });
    },
    () => {
      logger?.info('tessera: the session store answers again');
      emit({ type: 'store-recovered', at: o.now() });
    },
  );
  const backend: Backend = sealed
    ? sealedBackend(
        withOpenCache(sealed.bind(o.secrets)),
        o.cookie.name,
        sealed.revocations,
        monitor,
      )
    : serverBackend(store as SessionStore, o.keys, monitor, o.trackMeta);

  // The stateless CSRF secret of a token: HMAC under a secret, with a label so it can never equal
  // the cookie's own signature. Verified against every secret, so a rotation breaks no form.
  const csrfKeys = o.keys;
  const derive = (key: (typeof csrfKeys)[number], token: string) =>
    createHmac('sha256', key).update('tessera-csrf\0').update(token).digest('base64url');
  const ctx: SessionContext = {
    issue: () => backend.issue(),
    statelessCsrf: backend.nonces !== null,
    csrfSecret: (token) => derive(csrfKeys[0] as (typeof csrfKeys)[number], token),
    csrfMatches(candidate, token) {
      for (const key of csrfKeys) if (csrfTokenMatches(candidate, derive(key, token))) return true;
      return false;
    },
    life: Object.freeze({
      idleTimeout: o.idleTimeout,
      absoluteTimeout: o.absoluteTimeout,
      touchAfter: o.touchAfter,
      persistent: o.persistent,
    }),
  };

  let warnedInsecure = process.env['NODE_ENV'] === 'production' || logger === null;
  function secureCookie(info: RequestInfo) {
    if (warnedInsecure || info.secure === true || info.host === undefined) return;
    if (LOOPBACK.test(info.host)) return; // browsers treat http://localhost as secure
    warnedInsecure = true;
    logger?.warn(
      `tessera: a Secure session cookie was sent to http://${info.host}; browsers drop it on plain HTTP (except localhost), so every request starts a new session. Serve HTTPS, or set cookie: { secure: 'auto' } (with the adapter's trustProxy behind a proxy). Warned once; not in production.`,
    );
  }
  const core: Core = {
    o,
    backend,
    ctx,
    emit,
    transport: transports(o, backend.cookieLimit, secureCookie),
  };

  function serverStore(what: string): SessionStore {
    if (store) return store;
    throw new SessionStateError(
      `${what} needs a server-side store; cookieStore() keeps no list of sessions (see docs/stores/cookie.md)`,
    );
  }

  return {
    options: o.view,
    request(info: RequestInfo) {
      return new RequestSession<Data>(core, info);
    },
    async listSessions(userId) {
      const now = o.now();
      const live = await serverStore('listSessions').listByUser(userId, now);
      return live
        .map(
          ({ key, record }): SessionInfo => ({
            id: key,
            userId: record.userId,
            createdAt: record.createdAt,
            lastSeenAt: record.lastSeenAt,
            expiresAt: record.expiresAt,
            absoluteExpiresAt: record.absoluteExpiresAt,
            userAgent: record.meta.userAgent,
            ip: record.meta.ip,
          }),
        )
        .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
    },
    async revokeSession(id, { userId } = {}) {
      const s = serverStore('revokeSession');
      const now = o.now();
      const record = await s.get(id, now);
      if (!record || (userId !== undefined && record.userId !== userId)) return false;
      const removed = await s.destroy(id);
      if (removed) emit({ type: 'revoked', id, userId: record.userId, reason: 'revoke', at: now });
      return removed;
    },
    async revokeUserSessions(userId, { except } = {}) {
      const now = o.now();
      if (sealed) {
        if (!sealed.revocations) {
          throw new SessionStateError(
            'revokeUserSessions with cookieStore needs its revocations option: cookieStore({ revocations: revocationList(store) })',
          );
        }
        if (typeof except === 'string') {
          // A sealed session cannot be spared by id: a thief holding the same cookie has the same
          // id. Only the request itself (its Session) can be let through.
          throw new SessionStateError(
            'revokeUserSessions with cookieStore cannot keep a session by id; pass the current session: { except: session }',
          );
        }
        // Everything created before now dies. The entry is needed until the last of those
        // sessions would have reached its absolute timeout.
        await sealed.revocations.revoke(userId, now, now + o.absoluteTimeout);
        except?.[EXEMPT](now);
        emit({ type: 'revoked', id: '*', userId, reason: 'revoke-user', at: now });
        return 0;
      }
      const keep =
        except === undefined ? undefined : typeof except === 'string' ? except : except.id;
      const s = serverStore('revokeUserSessions');
      // One batch; the store names what it deleted, so no record is loaded (or parsed) to report it.
      const removed = await s.destroyByUser(userId, keep === undefined ? {} : { except: keep });
      for (const key of removed)
        emit({ type: 'revoked', id: key, userId, reason: 'revoke-user', at: now });
      return removed.length;
    },
    async healthCheck() {
      if (store) await (store.ping ? store.ping() : store.get('tessera-health-check', o.now()));
      else await sealed?.revocations?.notBefore('tessera-health-check', o.now());
    },
    async close() {
      await store?.close?.();
    },
  };
}
