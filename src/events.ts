/**
 * Why a cookie of the session's name did not open a session:
 * - `malformed`: not a tessera cookie at all (junk, truncated, another app's cookie);
 * - `forged`: shaped like one but no secret verifies it: tampered, or signed with a secret that
 *   has since been removed from `secrets` (a rotation that dropped the old secret too early shows
 *   as a burst of these right after the deploy);
 * - `revoked`: a valid sealed cookie of a user signed out everywhere, or a session that was
 *   logged out or revoked while this request ran (its regenerate found it gone).
 *
 * A session that timed out is the `expired` event.
 *
 * @example
 * ```ts
 * onEvent: (e) => { if (e.type === 'refused') metrics.increment(`session.refused.${e.reason}`) }
 * ```
 */
export type RefusalReason = 'malformed' | 'forged' | 'revoked';

/**
 * Lifecycle events for audit logs. They carry the session's public id (the hashed key) and the
 * user id, never the token.
 *
 * @example
 * ```ts
 * createSessions({ secrets, store, onEvent: (e) => audit.log(e.type, e.id, e.userId) });
 * ```
 */
export type SessionEvent =
  | {
      readonly type: 'created';
      readonly id: string;
      readonly userId: string | null;
      readonly at: number;
    }
  | {
      readonly type: 'regenerated';
      readonly id: string;
      readonly previousId: string | null;
      readonly userId: string | null;
      readonly at: number;
    }
  | {
      readonly type: 'destroyed';
      readonly id: string;
      readonly userId: string | null;
      readonly reason: 'destroy' | 'logout';
      readonly at: number;
    }
  | {
      readonly type: 'expired';
      readonly id: string;
      readonly userId: string | null;
      readonly at: number;
    }
  | {
      readonly type: 'revoked';
      readonly id: string;
      readonly userId: string | null;
      readonly reason: 'revoke' | 'revoke-user' | 'max-sessions';
      readonly at: number;
    }
  | {
      /** A cookie was refused (see {@link RefusalReason}). Never carries the cookie or token. */
      readonly type: 'refused';
      readonly reason: RefusalReason;
      /** The public id when the cookie verified (`revoked`), else `null`. */
      readonly id: string | null;
      readonly at: number;
    }
  | {
      /** The first store failure of an outage (reported once until the store answers again). */
      readonly type: 'store-unavailable';
      /** The operation that failed, e.g. `get`, `update`. */
      readonly operation: string;
      readonly error: Error;
      readonly at: number;
    }
  | {
      /** The first store success after an outage. */
      readonly type: 'store-recovered';
      readonly at: number;
    };
