/**
 * Where a session lives between requests, as the request lifecycle needs it. Two backends exist:
 * a server store (the cookie carries a signed random token; the record is in the store under its
 * hash) and a sealed cookie (the record travels in the cookie). `createSessions` picks one, once;
 * the request path calls these methods and never asks which one it has.
 * @internal
 */

import type { Ids } from '../session/state.ts';
import type { SessionDelta, SessionRecord } from '../store.ts';

/** Why a cookie value was refused before any record was looked at. */
export type CookieRefusal = 'malformed' | 'forged';

/** A cookie value that verified: its ids, and whether it must be sent again with the current secret. */
export interface Verified extends Ids {
  /** Signed or sealed with an older secret. */
  readonly stale: boolean;
  /** The value itself when it is what the current secret produces for this token (re-sent as is). */
  readonly value: string | null;
  /** The sealed record, already in the cookie (server stores: `null`, the store has it). */
  readonly record: SessionRecord | null;
  /** A CSRF binding handed out with no record (server stores only). */
  readonly nonce: boolean;
}

/** What loading a verified cookie found: the live record, or why there is none. */
export type Loaded = SessionRecord | 'unknown' | 'revoked';

/** A request's change for a regenerate (see `SessionStore.regenerate`). */
export interface RegenerateChange {
  readonly delta: SessionDelta;
  readonly userId: string | null;
  /**
   * The record as the request loaded it, its data already carrying this request's changes (a
   * sealed cookie has no other copy; a server store ignores it and applies `delta` to its own).
   */
  readonly loaded: SessionRecord;
  /** This request revoked the user's other sessions at this time and outlives that revocation. */
  readonly exemptFrom: number | null;
}

export interface Backend {
  /** Most bytes a Set-Cookie header may have (sealed cookies: what browsers keep). */
  readonly cookieLimit: number;
  /** Whether client facts (user agent, IP) are kept in new records (nothing lists a sealed one). */
  readonly keepsMeta: boolean;
  /**
   * Whether the cookie carries the record itself (sealed): then every write is a new cookie.
   * Otherwise it carries only the token, and a write that moves no deadline sends none.
   */
  readonly cookieHoldsRecord: boolean;
  /** Check a cookie value (no I/O). */
  verify(value: string): Verified | CookieRefusal;
  /** The live record of a verified cookie. */
  load(verified: Verified, now: number): Promise<Loaded>;
  /** New ids in this backend's scheme. */
  issue(): Ids;
  /**
   * The cookie value for a session's ids and record (a CSRF nonce passes the empty record it
   * would have: a server store signs the token alone).
   */
  cookieValue(ids: Ids, record: SessionRecord, reuse: string | null): string;
  create(key: string, record: SessionRecord): Promise<void>;
  /**
   * Stateless CSRF bindings, when the store can turn one into a record atomically (its
   * `insert`): the cookie value of a nonce, and the insert-if-absent that adopts it. `null`:
   * a CSRF token needs a record (sealed cookies carry it; a store without `insert`).
   */
  readonly nonces: {
    cookieValue(token: string): string;
    insert(key: string, record: SessionRecord, now: number): Promise<boolean>;
  } | null;
  /** `false`: the record is gone (never written back). */
  update(key: string, delta: SessionDelta, now: number): Promise<boolean>;
  touch(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Rename-if-alive with the delta applied to the current record; `null` when it is gone. */
  regenerate(
    oldKey: string,
    newKey: string,
    change: RegenerateChange,
    now: number,
  ): Promise<SessionRecord | null>;
  destroy(key: string): Promise<void>;
  /** At login past `maxSessionsPerUser`, end the user's oldest sessions but `keep`; the ids ended. */
  enforceMax(userId: string, keep: string, max: number, now: number): Promise<string[]>;
}
