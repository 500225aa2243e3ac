import { SessionConfigError, SessionStateError } from './errors.ts';
import type { SessionEvent } from './events.ts';
import { withOpenCache } from './lib/open-cache.ts';
import { cachedVerifier } from './lib/token.ts';
import { type RequestInfo, RequestSession, type SessionInfo, type Sessions } from './manager.ts';
import { resolveOptions, type SessionsOptions } from './options.ts';
import type { SessionData } from './session.ts';
import type { SealedStore, SessionStore } from './store.ts';

function isSealed(store: SessionStore | SealedStore): store is SealedStore {
  return (store as SealedStore).kind === 'sealed';
}

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
  const sealed = isSealed(o.store) ? o.store : null;
  const store = isSealed(o.store) ? null : o.store;
  if (sealed && Number.isFinite(o.maxSessionsPerUser)) {
    // Enforcing it needs the list of a user's sessions, which a stateless store does not have.
    throw new SessionConfigError(
      'maxSessionsPerUser needs a server-side store (memory, sqlite, postgres, redis); cookieStore() keeps no list of sessions',
    );
  }
  const core = {
    o,
    store,
    sealed,
    codec: sealed ? withOpenCache(sealed.bind(o.secrets)) : null,
    verify: cachedVerifier(o.keys),
    emit(event: SessionEvent) {
      try {
        o.onEvent?.(event);
      } catch {
        // An audit hook that throws must not fail the visitor's request.
      }
    },
  };

  function serverStore(what: string): SessionStore {
    if (store) return store;
    throw new SessionStateError(
      `${what} needs a server-side store; cookieStore() keeps no list of sessions (see docs/stores/cookie.md)`,
    );
  }

  return {
    options: o,
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
      if (removed)
        core.emit({ type: 'revoked', id, userId: record.userId, reason: 'revoke', at: now });
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
        if (except !== undefined) {
          // A sealed session cannot be spared by id: the cookie of the current device would die
          // with the others. Silently ignoring `except` would sign the user out here too.
          throw new SessionStateError(
            'revokeUserSessions with cookieStore cannot keep one session by id; call session.regenerate() in the same request instead of passing except',
          );
        }
        // Everything created before now dies (a session regenerated from now on survives). The
        // entry is needed until the last of those sessions would have reached its absolute timeout.
        await sealed.revocations.revoke(userId, now, now + o.absoluteTimeout);
        core.emit({ type: 'revoked', id: '*', userId, reason: 'revoke-user', at: now });
        return 0;
      }
      const s = serverStore('revokeUserSessions');
      // One batch; the store names what it deleted, so no record is loaded (or parsed) to report it.
      const removed = await s.destroyByUser(userId, except === undefined ? {} : { except });
      for (const key of removed)
        core.emit({ type: 'revoked', id: key, userId, reason: 'revoke-user', at: now });
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
