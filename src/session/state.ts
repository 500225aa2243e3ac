/**
 * A session's state during one request, shared by the {@link Session} a handler sees and the
 * `RequestSession` that commits it. Plain data: behaviour the state needs from the manager
 * (issuing ids, deriving CSRF secrets) comes through {@link SessionContext}.
 * @internal
 */
import type { Lifetime } from '../lifecycle/expiry.ts';
import type { SessionTransport } from '../lifecycle/transport.ts';
import type { AtomicOp, JsonValue, SessionRecord } from '../store.ts';

/** What one request changed about one key. */
export type Change =
  | { readonly kind: 'set'; readonly value: JsonValue }
  | { readonly kind: 'unset' }
  | { readonly kind: 'ops'; readonly ops: AtomicOp[] };

/** A token and the store key (public id) it maps to. */
export interface Ids {
  readonly token: string;
  readonly key: string;
}

/** What a session needs from its manager, fixed for the manager's life. */
export interface SessionContext {
  /** New ids in the backend's scheme (a random token and its hash, or a sealed session's id). */
  issue(): Ids;
  /** The stateless CSRF secret bound to `token` (HMAC under the current secret). */
  csrfSecret(token: string): string;
  /** Does a masked CSRF token carry the secret bound to `token` under any of the secrets? */
  csrfMatches(candidate: unknown, token: string): boolean;
  /**
   * Whether a session with no record can hand out a CSRF token bound to a cookie alone (a
   * "nonce"), becoming a record only when it holds data. Otherwise the secret goes in the data.
   */
  readonly statelessCsrf: boolean;
  /** The manager's lifetime (a session may tighten it at login). */
  readonly life: Lifetime;
}

export interface SessionState {
  /** The record as loaded; `null` for a new session. */
  readonly record: SessionRecord | null;
  /** The current view: loaded data with this request's changes applied. */
  data: Record<string, JsonValue>;
  readonly changes: Map<string, Change>;
  /** Current token and key; a new session gets them on first need. */
  token: string | null;
  key: string | null;
  /**
   * The ids of a stateless CSRF binding (a cookie signed as a nonce, with no record): handed out
   * earlier, or in this request (`issued`). The session's first write turns it into a record
   * under the same token (so racing first writes meet in one record), unless that write binds a
   * user or regenerates: then the record gets fresh ids and keeps the nonce's CSRF secret.
   */
  nonce: Ids | null;
  /** A nonce was issued in this request (its cookie must be sent). */
  issued: boolean;
  userId: string | null;
  userChanged: boolean;
  regenerate: boolean;
  destroyed: false | 'destroy' | 'logout';
  committed: boolean;
  /** Set by `revokeUserSessions(userId, { except: session })`: this request outlives that revocation. */
  exemptFrom: number | null;
  /** How the request's token travels (cookie or header): fixed before the load. */
  readonly transport: SessionTransport;
  readonly now: number;
  readonly ctx: SessionContext;
}

/** Whether this request's first write would turn its nonce into the record (no login, no regenerate). */
export function adoptsNonce(state: SessionState): boolean {
  return state.userId === null && !state.regenerate;
}

/** tessera's own keys in the data (users' keys may not start with `$`). */
export const FLASH = '$flash';
export const CSRF = '$csrf';

export function isUserKey(key: string): boolean {
  return key.charCodeAt(0) !== 36; /* $ */
}

/** The value of an own key (never one inherited from Object.prototype). */
export function own(data: Readonly<Record<string, JsonValue>>, key: string): JsonValue | undefined {
  return Object.hasOwn(data, key) ? data[key] : undefined;
}
