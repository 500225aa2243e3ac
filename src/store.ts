/**
 * The store contract. A store keeps session records under *hashed* keys: it never sees the
 * token the browser holds (the key is SHA-256 of it), so a leaked database or Redis dump
 * cannot be replayed as cookies.
 *
 * Time is passed in (`now`, milliseconds since the epoch) rather than read by the store, so
 * one injected clock drives the manager and the store alike and expiry tests need no sleeping.
 */

/**
 * A JSON value, as stores keep it.
 *
 * @example
 * ```ts
 * const value: JsonValue = { cart: ['sku-1'], count: 2, gift: null };
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * What tessera records about the client when a session is created (for a "your devices" page).
 *
 * @example
 * ```ts
 * const meta: SessionMeta = { userAgent: 'Mozilla/5.0 …', ip: '203.0.113.7' };
 * ```
 */
export interface SessionMeta {
  readonly userAgent?: string;
  readonly ip?: string;
}

/**
 * One session as a store keeps it. All times are epoch milliseconds.
 *
 * @example
 * ```ts
 * const record = await store.get(key, Date.now());
 * if (record && record.userId) console.log(record.userId, new Date(record.expiresAt));
 * ```
 */
export interface SessionRecord {
  /** The session's keys. Keys starting with `$` are tessera's own (flash messages, CSRF secret). */
  data: Record<string, JsonValue>;
  /** The bound user, or `null` for an anonymous session. */
  userId: string | null;
  createdAt: number;
  lastSeenAt: number;
  /** When the record dies: `min(lastSeenAt + idleTimeout, absoluteExpiresAt)`. */
  expiresAt: number;
  /** When the record dies whatever the activity (from `createdAt`). */
  absoluteExpiresAt: number;
  meta: SessionMeta;
}

/**
 * An atomic change to one key that the store applies to the *current* value, so concurrent
 * requests never read-modify-write over each other.
 *
 * - `push`: append `values`; a missing or non-array value becomes `values`.
 * - `pull`: remove every element equal (as JSON) to one of `values`; missing or non-array: no change.
 * - `increment`: add `by`; a missing or non-number value counts as 0.
 *
 * @example
 * ```ts
 * await store.update(key, { ops: [{ op: 'push', key: 'cart', values: ['sku-1'] }] }, Date.now());
 * ```
 */
export type AtomicOp =
  | { readonly op: 'push'; readonly key: string; readonly values: readonly JsonValue[] }
  | { readonly op: 'pull'; readonly key: string; readonly values: readonly JsonValue[] }
  | { readonly op: 'increment'; readonly key: string; readonly by: number };

/**
 * A change to a live record. Applied atomically and only if the record is still alive.
 * A key appears in at most one of `set`, `unset` and `ops`, so their order does not matter.
 * A record's bound user never changes under one key: binding or unbinding a user is a
 * {@link SessionStore.regenerate} to a new key.
 *
 * @example
 * ```ts
 * const after = await store.update(key, { set: { lang: 'fr' }, unset: ['draft'], expiresAt: now + 1_800_000 }, now);
 * if (after === null) console.log('the session was gone: nothing written');
 * ```
 */
export interface SessionDelta {
  readonly set?: Readonly<Record<string, JsonValue>>;
  readonly unset?: readonly string[];
  readonly ops?: readonly AtomicOp[];
  readonly expiresAt?: number;
  readonly lastSeenAt?: number;
}

/**
 * A record and its key, as returned by {@link SessionStore.listByUser}.
 *
 * @example
 * ```ts
 * for (const { key, record } of await store.listByUser('user-42', Date.now())) console.log(key, record.lastSeenAt);
 * ```
 */
export interface StoredSession {
  readonly key: string;
  readonly record: SessionRecord;
}

/**
 * The interface every store implements. Every method may reject with a `SessionStoreError`
 * (`ERR_SESSION_STORE_UNAVAILABLE`) when the backend fails; the manager turns anything else a
 * store throws into one too.
 *
 * @example
 * ```ts
 * import { runStoreConformance } from 'tessera-session/testing';
 * const myStore: SessionStore = { get, create, update, regenerate, touch, destroy, listByUser, destroyByUser };
 * ```
 */
export interface SessionStore {
  /** The record, or `null` when missing or expired at `now`. */
  get(key: string, now: number): Promise<SessionRecord | null>;
  /**
   * Write a new record. Its lifetime is `record.expiresAt`. On a key that already holds a record
   * (live or not) it **overwrites** it whole, and the user index follows (the old record's user no
   * longer lists the key). The manager only ever creates under a fresh random key's hash, so this
   * only matters to callers such as `revocationList` that reuse a key on purpose.
   */
  create(key: string, record: SessionRecord): Promise<void>;
  /**
   * Write a new record only if no *live* record has this key (an expired one is replaced), as one
   * atomic step. Resolves `true` when it wrote. Optional: the manager uses it to turn a visitor's
   * stateless CSRF binding into a record under the same token, so that several first writes
   * racing each other all land in one record (the one that loses applies its change as an
   * `update`). A store without it still works: a CSRF token then needs a record at once.
   */
  insert?(key: string, record: SessionRecord, now: number): Promise<boolean>;
  /**
   * Apply `delta` atomically to the live record. Resolves the whole record after this write: the
   * delta applied to the current value, so it holds every change that landed before it (a store
   * that reads it back in a second step may also show changes that landed since, never an older
   * state), and a cache in front can keep it without reading the primary again. Resolves `null`,
   * writing nothing, when the record is missing or expired at `now`: a destroyed session is never
   * written back.
   */
  update(key: string, delta: SessionDelta, now: number): Promise<SessionRecord | null>;
  /**
   * `update` without reading the record back: the same atomic, alive-only write, resolving only
   * whether the record was alive. Optional, for stores where returning the record costs (Redis:
   * the whole hash over the wire); the manager's writes use it when present, `update` otherwise.
   */
  apply?(key: string, delta: SessionDelta, now: number): Promise<boolean>;
  /**
   * Move a live record to a new key (login, privilege change), atomically: only while the record
   * under `oldKey` is alive at `now`, `delta` is applied to its *current* value (not to what the
   * request loaded, so a concurrent request's change is kept), the result is written under
   * `newKey` with `userId` as its bound user (`null`: anonymous; the user index follows), and
   * `oldKey` is deleted, all as one operation. `createdAt` and `absoluteExpiresAt` are kept (a
   * regenerate does not extend the absolute deadline). Resolves the new record, or `null`, writing
   * nothing, when the old record is gone or expired: a logged-out or revoked session is never
   * revived by a request that was already in flight. `newKey` is fresh (a new random token's hash).
   */
  regenerate(
    oldKey: string,
    newKey: string,
    change: { readonly delta: SessionDelta; readonly userId: string | null },
    now: number,
  ): Promise<SessionRecord | null>;
  /**
   * Extend a live record (sliding expiry), atomically and only while it is alive at `now`.
   * Resolves the whole record after this write (as {@link SessionStore.update}), or `null`,
   * writing nothing, when it is gone.
   */
  touch(
    key: string,
    expiresAt: number,
    lastSeenAt: number,
    now: number,
  ): Promise<SessionRecord | null>;
  /** Delete the record. `true` when there was one. */
  destroy(key: string): Promise<boolean>;
  /** The user's live sessions (any order). */
  listByUser(userId: string, now: number): Promise<StoredSession[]>;
  /**
   * Delete the user's sessions (all of them, or only those among `keys`), but the one keyed
   * `except`, in one batch (one statement, one script: never one round trip per session).
   * Resolves the keys deleted, so a caller can report each without loading any record. Never
   * parses a record: a user can always be signed out, whatever their sessions hold.
   */
  destroyByUser(
    userId: string,
    options?: { readonly except?: string; readonly keys?: readonly string[] },
  ): Promise<string[]>;
  /**
   * Keep the user's `keep` most recently seen live sessions (highest `lastSeenAt`; ties by key) and
   * the one keyed `except` (not counted in `keep`), and delete the user's other live sessions, in
   * one batch (one statement or script; on Redis Cluster a bounded number of round trips, never
   * one per session in sequence). Resolves the keys deleted, so a caller can report each without
   * loading any record. Never parses a record. This is the login-past-`maxSessionsPerUser` step;
   * a store without it is served by {@link SessionStore.listByUser} and
   * {@link SessionStore.destroyByUser}.
   */
  destroyUserSurplus?(
    userId: string,
    options: { readonly keep: number; readonly except?: string },
    now: number,
  ): Promise<string[]>;
  /**
   * Plain text values with a lifetime, beside the records: what `cachedStore` keeps in a
   * cache that has them, one call per step (a read, a lease, a compare-and-set fill) instead of a
   * session record per entry. Optional: a cache without them serves `cachedStore` through its
   * records.
   */
  readonly cacheEntries?: CacheEntries;
  /** Delete expired records; resolves how many. Stores with native expiry may omit it. */
  purgeExpired?(now: number): Promise<number>;
  /** Cheap liveness check for health endpoints. */
  ping?(): Promise<void>;
  /** Release connections and timers. */
  close?(): Promise<void>;
}

/**
 * Text values under keys of their own, each with a lifetime: the compare-and-set a cache needs so
 * that a fill never lands over a newer writer's claim. Keys are session keys; a store keeps them
 * apart from its session records.
 *
 * @example
 * ```ts
 * const entries = redisStore({ client }).cacheEntries!;
 * await entries.set(key, 'L:lease-id', 10_000);
 * await entries.replace(key, 'L:lease-id', 'R:{...}', 60_000); // true: still ours
 * ```
 */
export interface CacheEntries {
  /** The value, or `null` when missing or expired. */
  get(key: string): Promise<string | null>;
  /** Write `value` for `ttl` ms, replacing whatever is there. */
  set(key: string, value: string, ttl: number): Promise<void>;
  /** Write `value` for `ttl` ms only while the value is exactly `expected`, atomically; whether it did. */
  replace(key: string, expected: string, value: string, ttl: number): Promise<boolean>;
  /**
   * After a write to a primary that versions its records: write `value` (which must be
   * `V<version>:…`) for `ttl` ms only over a value `V<lower version>:…`, atomically. Any other
   * value (a lease, a record of no known version) is removed instead, and a missing one stays
   * missing. Optional: without it, cachedStore's writes take a lease first.
   */
  advance?(key: string, version: number, value: string, ttl: number): Promise<void>;
  /**
   * `advance` with a change instead of the whole record, for a value in cachedStore's layout of a
   * versioned record (`V<version>:<expiresAt>:<lastSeenAt>:<other fields' JSON>`, then a newline
   * and `<key>:<value>` per data key, as JSON): only over exactly `version - 1`, apply `change` to
   * it and raise it to `version`,
   * atomically, for `ttl` ms (`0`: its lifetime unchanged). `change` is lines, each ending in a
   * newline: the new `expiresAt` or nothing, the new `lastSeenAt` or nothing, then `-<key>` per data
   * key removed and `+<key>` followed by the value per key set (keys and values as JSON), applied in
   * that order. A value of a lower version or not versioned is removed, one of `version` or higher
   * is left as it is, and a missing one stays missing. Optional: without it, cachedStore sends the
   * whole record (`advance`).
   */
  patch?(key: string, version: number, change: string, ttl: number): Promise<void>;
  /** Remove the value (nothing when there is none). */
  delete(key: string): Promise<void>;
}

/**
 * What a sealed (stateless) store puts in the cookie: a public id and the whole record.
 *
 * @example
 * ```ts
 * const value = codec.seal({ id, record }, 'sid');
 * ```
 */
export interface SealedPayload {
  /** The session's public id (random, not a secret: it only names the session in events and lists). */
  readonly id: string;
  readonly record: SessionRecord;
}

/**
 * The codec a sealed store hands the manager once it knows the secrets.
 *
 * @example
 * ```ts
 * const codec = cookieStore().bind(secrets);
 * const opened = codec.open(cookieValue, 'sid'); // null when tampered
 * ```
 */
export interface SealCodec {
  /** Seal a payload into a cookie value bound to `cookieName`. */
  seal(payload: SealedPayload, cookieName: string): string;
  /**
   * Open a cookie value; `null` for anything tampered, truncated, foreign or malformed (never
   * throws). `stale`: opened with an older secret, so the manager re-seals it on this response.
   */
  open(value: string, cookieName: string): { payload: SealedPayload; stale: boolean } | null;
}

/**
 * Per-user "not before" times, so sealed sessions can be revoked (see `cookieStore`;
 * `revocationList(store)` keeps them in any {@link SessionStore}). Like a store, it is handed the
 * time rather than reading a clock, so one injected clock drives everything.
 *
 * @example Keeping the times in your own users table instead:
 * ```ts
 * const revocations: RevocationList = {
 *   notBefore: (userId) => db.users.sessionsNotBefore(userId), // number | null
 *   revoke: (userId, at) => db.users.setSessionsNotBefore(userId, at),
 * };
 * const store = cookieStore({ revocations });
 * ```
 */
export interface RevocationList {
  /** Sessions of `userId` created before this time (epoch ms) are dead; `null` when none. */
  notBefore(userId: string, now: number): Promise<number | null>;
  /**
   * Kill every session of `userId` created before `at`. `keepUntil` is when the last of those
   * sessions would have died anyway (`at` + the absolute timeout): the entry may be forgotten then.
   */
  revoke(userId: string, at: number, keepUntil: number): Promise<void>;
}

/**
 * A stateless store: the record travels in the cookie, sealed. There is no server state, so
 * listing sessions is impossible and revocation needs the optional `revocations` list.
 *
 * @example
 * ```ts
 * const sessions = createSessions({ secrets, store: cookieStore() }); // a SealedStore
 * ```
 */
export interface SealedStore {
  readonly kind: 'sealed';
  /** Derive keys from the manager's secrets (first seals, all open). */
  bind(secrets: readonly Uint8Array[]): SealCodec;
  readonly revocations?: RevocationList;
}
