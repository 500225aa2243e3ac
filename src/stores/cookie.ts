import { SessionConfigError } from '../errors.ts';
import { createSealCodec } from '../lib/seal.ts';
import type { RevocationList, SealCodec, SealedStore } from '../store.ts';

/**
 * Options of {@link cookieStore}.
 *
 * @example
 * ```ts
 * const options: CookieStoreOptions = { revocations: revocationList(memoryStore()) };
 * const store = cookieStore(options);
 * ```
 */
export interface CookieStoreOptions {
  /**
   * Where per-user "not before" times live, so `sessions.revokeUserSessions(userId)` can end a
   * user's sessions before they expire. Default: none — a sealed cookie then stays valid until
   * its own expiry, whatever the server does. `revocationList(store)` keeps them in any store.
   */
  readonly revocations?: RevocationList;
}

function isRevocationList(value: unknown): value is RevocationList {
  if (typeof value !== 'object' || value === null) return false;
  const list = value as Record<string, unknown>;
  return typeof list['notBefore'] === 'function' && typeof list['revoke'] === 'function';
}

/**
 * A stateless store: the whole session travels in the cookie, sealed with AES-256-GCM under a
 * key derived from the manager's `secrets` and bound to the cookie's name. Nothing is kept on the
 * server, so it scales without a database — at a price, written down in `docs/stores/cookie.md`:
 * a cookie holds at most about 2.8 kB of session data (more fails the request with
 * `ERR_SESSION_COOKIE_TOO_LARGE`), concurrent requests of one session overwrite each other (last
 * write wins), `listSessions` is impossible, and a logged-out or stolen cookie stays valid until
 * it expires unless `revocations` is set.
 *
 * @example
 * ```ts
 * import { cookieStore, createSessions } from 'tessera-session';
 *
 * const sessions = createSessions({
 *   secrets: [process.env.SESSION_SECRET!],
 *   store: cookieStore(),
 *   idleTimeout: '30m',
 * });
 * ```
 *
 * @example With revocation ("sign out everywhere"), backed by a small server store:
 * ```ts
 * import { cookieStore, createSessions, revocationList } from 'tessera-session';
 *
 * // Any SessionStore; with several servers, one they share (sqlite on one host, postgres, redis).
 * const revocations = revocationList(sharedStore);
 * const sessions = createSessions({
 *   secrets: [process.env.SESSION_SECRET!],
 *   store: cookieStore({ revocations }),
 * });
 * await sessions.revokeUserSessions(userId); // every cookie of userId sealed before now is dead
 * ```
 */
export function cookieStore(options: CookieStoreOptions = {}): SealedStore {
  const { revocations } = options;
  if (revocations !== undefined && !isRevocationList(revocations)) {
    throw new SessionConfigError(
      'cookieStore: revocations must be a RevocationList ({ notBefore, revoke }); build one over any store with revocationList(store)',
    );
  }
  return {
    kind: 'sealed',
    bind: function bindCookieStore(secrets: readonly Uint8Array[]): SealCodec {
      if (secrets.length === 0) {
        throw new SessionConfigError('cookieStore: bind needs at least one secret');
      }
      return createSealCodec(secrets);
    },
    ...(revocations === undefined ? {} : { revocations }),
  };
}
