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
    };
