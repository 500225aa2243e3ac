import { hash } from 'node:crypto';
import { SessionConfigError } from '../errors.ts';
import type { RevocationList, SessionRecord, SessionStore } from '../store.ts';

/**
 * The entry's key: SHA-256 of a prefixed user id, shaped exactly like a session key (43
 * base64url characters) so it fits any store's key column, never collides with a session, and
 * does not put user ids in clear in the store.
 */
function entryKey(userId: string): string {
  return hash('sha256', `tessera/revocation\0${userId}`, 'base64url');
}

/**
 * Per-user revocations for {@link cookieStore}, kept in any tessera {@link SessionStore}
 * (`memoryStore()` for one process; sqlite, postgres or redis to share them between servers).
 *
 * Each revoked user is one small record — `{ notBefore }` — under a hashed key, with no user id
 * bound (so it never shows up in `listByUser` nor is deleted by `destroyByUser`), expiring when
 * the last session it kills would have expired anyway. Users never revoked cost nothing but one
 * store read per request of a logged-in session.
 *
 * @example
 * ```ts
 * import { cookieStore, createSessions, memoryStore, revocationList } from 'tessera-session';
 *
 * const sessions = createSessions({
 *   secrets: [process.env.SESSION_SECRET!],
 *   store: cookieStore({ revocations: revocationList(memoryStore()) }),
 * });
 * ```
 */
export function revocationList(store: SessionStore): RevocationList {
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.create !== 'function' ||
    typeof store.update !== 'function'
  ) {
    throw new SessionConfigError(
      'revocationList(store): store must be a tessera SessionStore such as memoryStore() or sqliteStore()',
    );
  }
  return {
    async notBefore(userId, now) {
      const record = await store.get(entryKey(userId), now);
      const at = record?.data['notBefore'];
      return typeof at === 'number' ? at : null;
    },
    async revoke(userId, at, keepUntil) {
      const key = entryKey(userId);
      // Update first: stores differ on what `create` does to an existing key (overwrite or fail).
      const delta = { set: { notBefore: at }, expiresAt: keepUntil, lastSeenAt: at };
      if ((await store.update(key, delta, at)) !== null) return;
      const entry: SessionRecord = {
        data: { notBefore: at },
        userId: null,
        createdAt: at,
        lastSeenAt: at,
        expiresAt: keepUntil,
        absoluteExpiresAt: keepUntil,
        meta: {},
      };
      await store.create(key, entry);
    },
  };
}
