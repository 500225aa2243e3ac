/**
 * Versions a primary store gives its records, for cachedStore (src/stores/cached.ts) to order its
 * cache writes by: postgresStore keeps a `version` column that every write raises by one, under
 * the row lock, so of two records of one session the later write's has the higher version. Kept
 * beside the records (a WeakMap), not in them: a record is what the app sees.
 * @internal
 */
import type { SessionRecord, SessionStore } from '../store.ts';

const versions = new WeakMap<SessionRecord, number>();
/** Stores that can version their records, each with what turns it on. */
const offers = new WeakMap<SessionStore, () => void>();

/** `record`, remembered as at `version`. */
export function versioned<R extends SessionRecord>(record: R, version: number): R {
  versions.set(record, version);
  return record;
}

/** The version `record` was read or written at, when its store keeps one. */
export function versionOf(record: SessionRecord): number | undefined {
  return versions.get(record);
}

/**
 * Mark `store` as able to version its records; `start` has it attach a version to every record
 * it resolves from then on. Off until asked: a store no cache reads pays nothing per record.
 */
export function offersVersions<S extends SessionStore>(store: S, start: () => void): S {
  offers.set(store, start);
  return store;
}

/** Have `store` version its records from now on; whether it can. */
export function useVersions(store: SessionStore): boolean {
  const start = offers.get(store);
  start?.();
  return start !== undefined;
}
