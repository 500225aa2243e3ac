/**
 * Versions a primary store gives its records, for cachedStore (src/stores/cached.ts) to order its
 * cache writes by: postgresStore keeps a `version` column that every write raises by one, under
 * the row lock, so of two records of one session the later write's has the higher version. Kept
 * beside the records (a WeakMap), not in them: a record is what the app sees.
 * @internal
 */
import type { SessionRecord, SessionStore } from '../store.ts';

const versions = new WeakMap<SessionRecord, number>();
const stores = new WeakSet<SessionStore>();

/** `record`, remembered as at `version`. */
export function versioned<R extends SessionRecord>(record: R, version: number): R {
  versions.set(record, version);
  return record;
}

/** The version `record` was read or written at, when its store keeps one. */
export function versionOf(record: SessionRecord): number | undefined {
  return versions.get(record);
}

/** Mark `store` as one whose records carry versions (every record it resolves has one). */
export function keepsVersions<S extends SessionStore>(store: S): S {
  stores.add(store);
  return store;
}

/** Whether `store`'s records carry versions. */
export function hasVersions(store: SessionStore): boolean {
  return stores.has(store);
}
