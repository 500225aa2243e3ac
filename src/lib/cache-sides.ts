/**
 * How cachedStore (src/stores/cached.ts) keeps its entries in a cache: the lease ids, and the two
 * layouts (a cache's `cacheEntries`, or any store's session records), each offering the same
 * steps: find, lease, fill under a lease, remove.
 * @internal
 */
import type { CacheEntries, JsonValue, SessionRecord, SessionStore } from '../store.ts';
import { fillRandom } from './random-pool.ts';
import { versionOf } from './record-version.ts';

/** A lease id's bytes, reused: filled from the CSPRNG pool, encoded, zeroed. */
const leaseBytes = Buffer.alloc(12);

/**
 * A fresh lease id (12 random bytes, base64url). From the pool (src/lib/random-pool.ts): one
 * `randomBytes` call per lease was 3 % of a cached write's CPU under load (`node --cpu-prof`).
 */
export function newLeaseId(): string {
  const id = fillRandom(leaseBytes, 0, leaseBytes.length).toString('base64url');
  leaseBytes.fill(0);
  return id;
}

/** What a read of the cache found: a record filled under the current lease, someone's lease not filled yet, or nothing usable. */
export type Found = { readonly hit: SessionRecord } | 'leased' | 'empty';

/** The steps cachedStore takes on its cache, whatever the cache keeps. */
export interface CacheSide {
  find(key: string, now: number): Promise<Found>;
  /** Write a fresh lease under `key`, superseding every earlier one (and any record). */
  lease(key: string, id: string, now: number): Promise<void>;
  /**
   * Put `record` under the lease `id` if it is still the current one. `check` (a writer): resolves
   * `false` when the entry may now hold another lease, which the caller must remove.
   */
  fill(
    key: string,
    id: string,
    record: SessionRecord,
    now: number,
    check: boolean,
  ): Promise<boolean>;
  /**
   * After a write to a primary that versions its records (src/lib/record-version.ts): put
   * `record` (which has a version) in place of an older version of it, remove anything else, and
   * leave a missing entry missing. Only on a cache whose entries can compare versions.
   */
  advance?(key: string, record: SessionRecord, now: number): Promise<void>;
  remove(key: string): Promise<void>;
}

/** How long a filled entry lives: the cache's ttl, never past the record's own expiry. */
const lifetime = (ttl: number, record: SessionRecord, now: number) =>
  Math.min(ttl, record.expiresAt - now);

/** A record as an entry: `V<version>:<JSON>` when its primary versions it, else `R<JSON>`. */
function entryText(record: SessionRecord): string {
  const version = versionOf(record);
  return `${version === undefined ? 'R' : `V${version}:`}${JSON.stringify(record)}`;
}

/**
 * A cache with {@link CacheEntries} (redisStore): one text value per key, `L<lease>`, or a record
 * (`R<JSON>`, or `V<version>:<JSON>` from a primary that versions its records); a fill is one
 * compare-and-set from our lease to the record, so a fill that lost its lease writes nothing.
 */
function entriesSide(entries: CacheEntries, ttl: number, leaseTtl: number): CacheSide {
  const advance = entries.advance?.bind(entries);
  return {
    async find(key) {
      const value = await entries.get(key);
      if (value === null) return 'empty';
      const first = value.charCodeAt(0);
      if (first === 86 /* V */) {
        return { hit: JSON.parse(value.slice(value.indexOf(':') + 1)) as SessionRecord };
      }
      if (first === 82 /* R */) return { hit: JSON.parse(value.slice(1)) as SessionRecord };
      return first === 76 /* L */ ? 'leased' : 'empty';
    },
    lease: (key, id) => entries.set(key, `L${id}`, leaseTtl),
    fill: (key, id, record, now) =>
      entries.replace(key, `L${id}`, entryText(record), lifetime(ttl, record, now)),
    ...(advance && {
      advance: (key: string, record: SessionRecord, now: number) =>
        advance(key, versionOf(record)!, entryText(record), lifetime(ttl, record, now)),
    }),
    remove: (key) => entries.delete(key),
  };
}

/** What cachedStore keeps in a cache's session record (`data`) when the cache has no entries. */
interface Entry {
  /** Who may fill this entry: the reader (or writer) that wrote it. */
  lease: string;
  /** The lease of whoever filled `record`; the entry is a hit only when it equals `lease`. */
  filled?: string;
  record?: SessionRecord;
}

/**
 * Any other cache (memoryStore): the entry is a session record's data. A fill is an alive-only
 * update that also names its lease; a read counts it a hit only when that is the current lease,
 * so a fill that landed on someone else's lease reads as a miss.
 */
function recordsSide(cache: SessionStore, ttl: number, leaseTtl: number): CacheSide {
  return {
    async find(key, now) {
      const entry = ((await cache.get(key, now))?.data ?? null) as Entry | null;
      if (entry === null) return 'empty';
      if (entry.record && entry.filled === entry.lease) return { hit: entry.record };
      return entry.filled === undefined ? 'leased' : 'empty';
    },
    lease: (key, id, now) =>
      cache.create(key, {
        data: { lease: id } as unknown as Record<string, JsonValue>,
        userId: null, // the cache's own user index is never used
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + leaseTtl,
        absoluteExpiresAt: now + leaseTtl,
        meta: {},
      }),
    async fill(key, id, record, now, check) {
      const delta = {
        set: { record: record as unknown as JsonValue, filled: id },
        expiresAt: now + lifetime(ttl, record, now),
      };
      if (!check) {
        // Nothing is read back here: a cache that can skip sending the entry back does.
        await (cache.apply ? cache.apply(key, delta, now) : cache.update(key, delta, now));
        return true;
      }
      // The entry as it is after the fill (the store contract) says whether our lease was still
      // the latest; gone (a destroy) leaves nothing to remove.
      const after = await cache.update(key, delta, now);
      return after === null || (after.data as unknown as Entry).lease === id;
    },
    remove: async (key) => {
      await cache.destroy(key);
    },
  };
}

/** The side for `cache`: its entries when it has them, else its session records. */
export function sides(cache: SessionStore, ttl: number, leaseTtl: number): CacheSide {
  return cache.cacheEntries
    ? entriesSide(cache.cacheEntries, ttl, leaseTtl)
    : recordsSide(cache, ttl, leaseTtl);
}
