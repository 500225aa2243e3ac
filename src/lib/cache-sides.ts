/**
 * How cachedStore (src/stores/cached.ts) keeps its entries in a cache: the lease ids, and the two
 * layouts (a cache's `cacheEntries`, or any store's session records), each offering the same
 * steps: find, lease, fill under a lease, remove.
 * @internal
 */
import type {
  CacheEntries,
  JsonValue,
  SessionDelta,
  SessionRecord,
  SessionStore,
} from '../store.ts';
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
  /**
   * `advance` with the write's delta instead of its record: the entry at the version just below
   * `version` takes the delta (data keys set and removed, the expiry and last use) and becomes
   * `version`; anything older or unversioned is removed. Not for a delta with atomic operations
   * (their arithmetic and equality are the primary's): those send the record.
   */
  patch?(key: string, version: number, delta: SessionDelta, now: number): Promise<void>;
  remove(key: string): Promise<void>;
}

/** How long a filled entry lives: the cache's ttl, never past the record's own expiry. */
const lifetime = (ttl: number, record: SessionRecord, now: number) =>
  Math.min(ttl, record.expiresAt - now);

/** Epoch ms as the Lua of a patch reads them (digits only). */
const whole = (ms: number) => Number.isSafeInteger(ms) && ms >= 0;

/**
 * A record as an entry: `R<JSON>`, or when its primary versions it
 * `V<version>:<expiresAt>:<lastSeenAt>:<the other fields' JSON>` and then a line
 * `<key JSON>:<value JSON>` per data key (each after a newline): the parts a write changes, where
 * the cache can change them with plain text finds (`CacheEntries.patch`, which Redis runs as Lua).
 * Compact JSON has no raw newline, so a newline always starts a data key's line.
 */
function entryText(record: SessionRecord): string {
  const version = versionOf(record);
  if (version === undefined || !whole(record.expiresAt) || !whole(record.lastSeenAt)) {
    return `R${JSON.stringify(record)}`;
  }
  const { data, expiresAt, lastSeenAt, ...rest } = record;
  return `V${version}:${expiresAt}:${lastSeenAt}:${JSON.stringify(rest)}${dataLines(data)}`;
}

/** `\n<key>:<value>` per data key, as JSON (a value JSON cannot hold is left out, as JSON.stringify does). */
function dataLines(data: Readonly<Record<string, JsonValue>>): string {
  let lines = '';
  for (const key of Object.keys(data)) {
    const value = JSON.stringify(data[key]);
    if (value !== undefined) lines += `\n${JSON.stringify(key)}:${value}`;
  }
  return lines;
}

/** The record an entry holds (see entryText); `null` for a lease or anything else. */
export function entryRecord(value: string): SessionRecord | null {
  const first = value.charCodeAt(0);
  if (first === 86 /* V */) return versionedRecord(value);
  return first === 82 /* R */ ? (JSON.parse(value.slice(1)) as SessionRecord) : null;
}

/** The record of a `V…` entry: one parse, of the fields' JSON opened up to take the data and the times. */
function versionedRecord(value: string): SessionRecord {
  const e = value.indexOf(':') + 1;
  const l = value.indexOf(':', e) + 1;
  const rest = value.indexOf(':', l) + 1;
  let nl = value.indexOf('\n', rest);
  if (nl < 0) nl = value.length;
  return JSON.parse(
    `{"data":{${value.slice(nl + 1).replaceAll('\n', ',')}},"expiresAt":${value.slice(e, l - 1)},"lastSeenAt":${value.slice(l, rest - 1)},${value.slice(rest + 1, nl)}`,
  ) as SessionRecord;
}

/** A delta as `CacheEntries.patch`'s change: lines of the times, then removals, then sets. */
function changeText(delta: SessionDelta): string {
  let text = `${delta.expiresAt ?? ''}\n${delta.lastSeenAt ?? ''}\n`;
  for (const key of delta.unset ?? []) text += `-${JSON.stringify(key)}\n`;
  const set = delta.set ?? {};
  for (const key of Object.keys(set)) {
    const value = JSON.stringify(set[key]);
    if (value !== undefined) text += `+${JSON.stringify(key)}\n${value}\n`;
  }
  return text;
}

/**
 * A cache with {@link CacheEntries} (redisStore): one text value per key, `L<lease>`, or a record
 * (`R<JSON>`, or `V<version>:<JSON>` from a primary that versions its records); a fill is one
 * compare-and-set from our lease to the record, so a fill that lost its lease writes nothing.
 */
function entriesSide(entries: CacheEntries, ttl: number, leaseTtl: number): CacheSide {
  const advance = entries.advance?.bind(entries);
  const patch = entries.patch?.bind(entries);
  return {
    async find(key) {
      const value = await entries.get(key);
      if (value === null) return 'empty';
      if (value.charCodeAt(0) === 76 /* L */) return 'leased';
      const record = entryRecord(value);
      return record ? { hit: record } : 'empty';
    },
    lease: (key, id) => entries.set(key, `L${id}`, leaseTtl),
    fill: (key, id, record, now) =>
      entries.replace(key, `L${id}`, entryText(record), lifetime(ttl, record, now)),
    ...(advance && {
      advance: (key: string, record: SessionRecord, now: number) =>
        advance(key, versionOf(record)!, entryText(record), lifetime(ttl, record, now)),
    }),
    ...(patch && {
      // No new expiry: the entry keeps its lifetime (0).
      patch: (key: string, version: number, delta: SessionDelta, now: number) =>
        patch(
          key,
          version,
          changeText(delta),
          delta.expiresAt === undefined ? 0 : Math.max(1, Math.min(ttl, delta.expiresAt - now)),
        ),
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
