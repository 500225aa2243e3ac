/**
 * Versions a primary store gives its records, for cachedStore (src/stores/cached.ts) to order its
 * cache writes by: postgresStore keeps a `version` column that every write raises by one, under
 * the row lock, so of two records of one session the later write's has the higher version, and a
 * write that resolves version `n` changed the row at `n - 1`. Kept beside the records (a
 * WeakMap), not in them: a record is what the app sees.
 * @internal
 */
import type { SessionDelta, SessionRecord, SessionStore } from '../store.ts';

const versions = new WeakMap<SessionRecord, number>();

/** What a store that versions its records offers a cache in front of it. */
export interface Versioning {
  /** Attach a version to every record resolved from now on. Off until asked: a store no cache reads pays nothing per record. */
  start(): void;
  /**
   * `apply` that resolves the row's version after the write (the delta went onto version `n - 1`),
   * or `null`, writing nothing, when the record is missing or expired at `now`.
   */
  apply(key: string, delta: SessionDelta, now: number): Promise<number | null>;
}

const offers = new WeakMap<SessionStore, Versioning>();

/** `record`, remembered as at `version`. */
export function versioned<R extends SessionRecord>(record: R, version: number): R {
  versions.set(record, version);
  return record;
}

/** The version `record` was read or written at, when its store keeps one. */
export function versionOf(record: SessionRecord): number | undefined {
  return versions.get(record);
}

/** Mark `store` as able to version its records. */
export function offersVersions<S extends SessionStore>(store: S, versioning: Versioning): S {
  offers.set(store, versioning);
  return store;
}

/** Have `store` version its records from now on; what it offers, or `undefined` when it cannot. */
export function useVersions(store: SessionStore): Versioning | undefined {
  const versioning = offers.get(store);
  versioning?.start();
  return versioning;
}
