/**
 * cachedStore's writes ordered by the primary's versions: PostgreSQL raises a row's `version` on
 * every write, under the row lock, and a Redis cache puts a write's record in only over an older
 * version of it. The races a lease used to stop, made to happen: a write-through that arrives
 * after a newer one, after a logout, and after a reader's lease.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { entryRecord } from '../src/lib/cache-sides.ts';
import { useVersions, versionOf } from '../src/lib/record-version.ts';
import type { CacheEntries, SessionRecord, SessionStore } from '../src/store.ts';
import { cachedStore } from '../src/stores/cached.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { redisStore } from '../src/stores/redis.ts';
import { recordAt } from '../src/testing/helpers.ts';
import { storeConformance } from '../src/testing/index.ts';
import { cacheOutageServer } from './support/cache-outage.ts';
import { DATABASE_URL, REDIS_URL, redisCluster, serviceUnavailable } from './support/services.ts';

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
pool.on('error', () => {});
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
redis.on('error', () => {});
const unavailable =
  (await serviceUnavailable('PostgreSQL', () => pool.query('SELECT 1'))) ??
  (await serviceUnavailable('Redis', () => redis.connect()));

const schema = `tessera_versions_${randomBytes(4).toString('hex')}`;
const prefix = `tessera-versions-${randomBytes(4).toString('hex')}:`;

afterAll(async () => {
  if (!unavailable) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  await pool.end();
  redis.disconnect();
});

const key = () => randomBytes(32).toString('base64url');
const quiet = { log: () => {} };
const primary = (table = 'tessera_sessions') =>
  postgresStore({ pool, schema, table, sweepInterval: 0 });
/** A record created in `store` and read back. */
async function createAndGet(store: SessionStore): Promise<SessionRecord> {
  const k = key();
  const now = Date.now();
  await store.create(k, recordAt(now));
  return (await store.get(k, now))!;
}
/** The raw cache entry of `k`. */
const entry = (k: string) => redis.get(`${prefix}c:{${k}}`);

/** A gate: `wait` resolves once `open` is called. */
function gate() {
  let open: () => void = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/**
 * A Redis cache (by default on the single node) that counts its advances and patches; with
 * `hold`, the first call of that kind waits for `hold.until` (the cache write of a slow process).
 */
function watched(
  store: SessionStore = redisStore({ client: redis, prefix }),
  hold?: { readonly call: 'advance' | 'patch'; readonly until: Promise<void> },
) {
  const entries = store.cacheEntries!;
  const calls = { advance: 0, patch: 0 };
  const held = async (call: 'advance' | 'patch') => {
    calls[call]++;
    if (hold?.call === call && calls[call] === 1) await hold.until;
  };
  const cacheEntries: CacheEntries = {
    ...entries,
    async advance(k, version, value, ttl) {
      await held('advance');
      return entries.advance!(k, version, value, ttl);
    },
    async patch(k, version, change, ttl) {
      await held('patch');
      return entries.patch!(k, version, change, ttl);
    },
  };
  return { calls, store: { ...store, cacheEntries } as SessionStore };
}

/**
 * 150 seeded random writes of one session through a cachedStore whose cache is `cache` (read raw
 * through `client`): after each, the cache entry is PostgreSQL's row, at its version, and every
 * write went to the cache as a patch.
 */
async function randomWrites(client: Redis | Cluster, cache: SessionStore): Promise<void> {
  const { calls, store: watchedCache } = watched(cache);
  const store = cachedStore({ primary: primary(), cache: watchedCache, ...quiet });
  const plain = primary();
  const k = key();
  const start = Date.now();
  await store.create(k, { ...recordAt(start, { seed: 'x' }), userId: 'u:1', meta: { ip: '::1' } });
  // Keys and values that look like the entry's own punctuation.
  const keys = ['n', 'a"b', 'ü😀', '', 'x,y', '{', '\\', 'list', 'k:v'];
  const values = [
    1,
    -2.5,
    'str,with:"quotes"\nand a line',
    [1, [2, {}]],
    { a: { b: '}' } },
    null,
    true,
    '',
    1e21,
    'ü😀',
  ];
  let seed = 7;
  const pick = <T>(from: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return from[seed % from.length]!;
  };
  for (let i = 0; i < 150; i++) {
    const now = start + i;
    const set: Record<string, SessionRecord['data'][string]> = {};
    for (let j = pick([0, 1, 2, 3]); j > 0; j--) set[pick(keys)] = pick(values);
    const unset = Array.from({ length: pick([0, 0, 1, 2]) }, () => pick(keys)).filter(
      (u) => !(u in set),
    );
    const times = pick([true, false]) ? { expiresAt: now + 60_000, lastSeenAt: now } : {};
    expect(await store.apply!(k, { set, unset, ...times }, now)).toBe(true);
    const [{ version }] = (
      await pool.query(`SELECT version FROM "${schema}".tessera_sessions WHERE key = $1`, [k])
    ).rows;
    const value = (await client.get(`${prefix}c:{${k}}`))!;
    expect(value.startsWith(`V${version}:`), `write ${i}: ${value}`).toBe(true);
    expect(entryRecord(value), `write ${i}`).toEqual(await plain.get(k, now));
  }
  expect(calls).toEqual({ advance: 0, patch: 150 });
  expect((await store.get(k, start))?.userId).toBe('u:1'); // a hit, from the patched entry
}

describe.skipIf(unavailable !== null)('postgresStore versions', () => {
  it('every change raises the row version by one under its lock; records carry it', async () => {
    const store = primary();
    expect(versionOf(await createAndGet(store))).toBeUndefined(); // off until a cache asks
    expect(useVersions(store)).toBeDefined();
    const k = key();
    const now = Date.now();
    const created = recordAt(now, { c: 0 });
    await store.create(k, created);
    expect(versionOf(created)).toBe(0);
    expect(versionOf((await store.get(k, now))!)).toBe(0);
    expect(versionOf((await store.update(k, { set: { a: 1 } }, now))!)).toBe(1);
    expect(await store.apply!(k, { set: { a: 2 } }, now)).toBe(true);
    expect(versionOf((await store.touch(k, now + 90_000, now + 1, now))!)).toBe(3);
    // Twenty writes in one turn (one batch, then each repeat of the key alone): each version
    // is the count of writes before it, as the counter the writes raise says.
    const after = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.update(k, { ops: [{ op: 'increment', key: 'c', by: 1 }] }, now),
      ),
    );
    expect(after.map((r) => versionOf(r!)! - (r!.data['c'] as number))).toEqual(
      Array.from({ length: 20 }, () => 3),
    );
    expect(new Set(after.map((r) => versionOf(r!))).size).toBe(20);
    expect(versionOf((await store.get(k, now))!)).toBe(23);
    // A create over the key (a reused key) goes on from the row it replaces.
    const again = recordAt(now, { fresh: true });
    await store.create(k, again);
    expect(versionOf(again)).toBe(24);
    const moved = key();
    expect(versionOf((await store.regenerate(k, moved, { delta: {}, userId: 'u' }, now))!)).toBe(
      25,
    );
    await store.close();
  });

  it('a table of schema 2 (no version column) gains it on first use, its rows at version 0', async () => {
    const table = `schema2_${randomBytes(3).toString('hex')}`;
    const now = Date.now();
    const k = key();
    const first = primary(table);
    await first.create(k, recordAt(now, { old: true }));
    await first.close();
    await pool.query(`ALTER TABLE "${schema}"."${table}" DROP COLUMN version`);
    await pool.query(`UPDATE "${schema}".tessera_schema SET version = 2 WHERE name = $1`, [table]);
    const later = primary(table);
    useVersions(later);
    const got = await later.get(k, now);
    expect(got?.data).toEqual({ old: true });
    expect(versionOf(got!)).toBe(0);
    expect(versionOf((await later.update(k, { set: { n: 1 } }, now))!)).toBe(1);
    const { rows } = await pool.query(
      `SELECT version FROM "${schema}".tessera_schema WHERE name = $1`,
      [table],
    );
    expect(rows).toEqual([{ version: 3 }]);
    await later.close();
  });
});

describe.skipIf(unavailable !== null)('postgresStore schema 3 on a table made by hand', () => {
  it('without the version column (createTable: false), each call fails with the ALTER TABLE that fixes it', async () => {
    const table = `by_hand_${randomBytes(3).toString('hex')}`;
    await primary(table).create(key(), recordAt(Date.now())); // creates the table
    await pool.query(`ALTER TABLE "${schema}"."${table}" DROP COLUMN version`);
    const store = postgresStore({ pool, schema, table, createTable: false, sweepInterval: 0 });
    await expect(store.get(key(), Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      message: expect.stringContaining(
        `ALTER TABLE "${schema}"."${table}" ADD COLUMN version bigint NOT NULL DEFAULT 0`,
      ),
    });
    await pool.query(
      `ALTER TABLE "${schema}"."${table}" ADD COLUMN version bigint NOT NULL DEFAULT 0`,
    );
    expect(await store.get(key(), Date.now())).toBeNull();
    await store.close();
  });
});

describe.skipIf(unavailable !== null)('cachedStore: writes ordered by PostgreSQL versions', () => {
  const cache = () => redisStore({ client: redis, prefix });

  it('a write puts its record in the cache with its version; the next read is a hit', async () => {
    const store = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    const k = key();
    const now = Date.now();
    await store.create(k, recordAt(now, { v: 1 }));
    expect(await entry(k)).toMatch(/^V0:/);
    await store.update(k, { set: { v: 2 } }, now);
    expect(await entry(k)).toMatch(/^V1:.*"v":2/s);
    await store.touch(k, now + 90_000, now + 1, now);
    expect(await entry(k)).toMatch(/^V2:/);
    // A hit: the record with both writes, straight from the cache (the primary is not asked).
    await pool.query(`UPDATE "${schema}".tessera_sessions SET data = '{}' WHERE key = $1`, [k]);
    const got = await store.get(k, now);
    expect(got?.data).toEqual({ v: 2 });
    expect(got?.expiresAt).toBe(now + 90_000);
  });

  it('twenty writes of one session at once, no lease and no queue: the entry ends as the last', async () => {
    const store = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    const k = key();
    const now = Date.now();
    await store.create(k, recordAt(now, { cart: [] }));
    const written = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update(k, { ops: [{ op: 'push', key: 'cart', values: [i] }] }, now),
      ),
    );
    expect(written.map((r) => versionOf(r!)).sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await entry(k)).toMatch(/^V20:/);
    expect((await store.get(k, now))?.data['cart']).toHaveLength(20);
  });

  it('a write-through that arrives after a newer one is refused: the cache keeps the newer record', async () => {
    const k = key();
    const now = Date.now();
    const held = gate();
    const slow = cachedStore({
      primary: primary(),
      cache: watched(undefined, { call: 'advance', until: held.wait }).store,
      ...quiet,
    });
    const fast = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    await fast.create(k, recordAt(now, { n: 0 }));
    const first = slow.update(k, { set: { n: 1 } }, now); // lands on PostgreSQL, its fill held
    await new Promise((r) => setTimeout(r, 50));
    expect((await fast.update(k, { set: { n: 2 } }, now))?.data).toEqual({ n: 2 });
    held.open();
    expect((await first)?.data).toEqual({ n: 1 });
    expect(await entry(k)).toMatch(/^V2:.*"n":2/s);
    for (const s of [slow, fast]) expect((await s.get(k, now))?.data).toEqual({ n: 2 });
  });

  it('a write-through that arrives after a logout brings nothing back', async () => {
    const k = key();
    const now = Date.now();
    const held = gate();
    const slow = cachedStore({
      primary: primary(),
      cache: watched(undefined, { call: 'advance', until: held.wait }).store,
      ...quiet,
    });
    const other = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    await other.create(k, recordAt(now, { user: 'ada' }));
    const writing = slow.update(k, { set: { seen: true } }, now);
    await new Promise((r) => setTimeout(r, 50));
    expect(await other.destroy(k)).toBe(true);
    held.open();
    expect((await writing)?.data).toEqual({ user: 'ada', seen: true }); // it did land, before the logout
    expect(await entry(k)).toBeNull();
    for (const s of [slow, other]) expect(await s.get(k, now)).toBeNull();
  });

  it('apply sends the cache the delta, not the record: after each of 150 random writes the entry is PostgreSQL’s row, at its version', async () => {
    await randomWrites(redis, redisStore({ client: redis, prefix }));
  });

  it('a delta with atomic operations sends the record instead: the cache never does the arithmetic', async () => {
    const { calls, store: watchedCache } = watched();
    const store = cachedStore({ primary: primary(), cache: watchedCache, ...quiet });
    const k = key();
    const now = Date.now();
    await store.create(k, recordAt(now, { likes: 0.1 }));
    const op = { op: 'increment', key: 'likes', by: 0.2 } as const;
    expect(await store.apply!(k, { ops: [op], set: { at: 1 } }, now)).toBe(true);
    expect(calls).toEqual({ advance: 1, patch: 0 });
    expect(entryRecord((await entry(k))!)?.data).toEqual((await primary().get(k, now))?.data);
  });

  it('a patch that arrives after a newer write lands nothing older: the entry is the newer record or gone', async () => {
    const k = key();
    const now = Date.now();
    const held = gate();
    const slow = cachedStore({
      primary: primary(),
      cache: watched(undefined, { call: 'patch', until: held.wait }).store,
      ...quiet,
    });
    const fast = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    await fast.create(k, recordAt(now, { n: 0 }));
    const first = slow.apply!(k, { set: { n: 1 } }, now); // lands on PostgreSQL, its patch held
    await new Promise((r) => setTimeout(r, 50));
    expect(await fast.apply!(k, { set: { n: 2 } }, now)).toBe(true);
    held.open();
    expect(await first).toBe(true);
    const value = await entry(k);
    if (value !== null) expect(entryRecord(value)?.data).toEqual({ n: 2 });
    for (const s of [slow, fast]) expect((await s.get(k, now))?.data).toEqual({ n: 2 });
  });

  it('a patch that arrives after a logout brings nothing back', async () => {
    const k = key();
    const now = Date.now();
    const held = gate();
    const slow = cachedStore({
      primary: primary(),
      cache: watched(undefined, { call: 'patch', until: held.wait }).store,
      ...quiet,
    });
    const other = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    await other.create(k, recordAt(now, { user: 'ada' }));
    const writing = slow.apply!(k, { set: { seen: true } }, now);
    await new Promise((r) => setTimeout(r, 50));
    expect(await other.destroy(k)).toBe(true);
    held.open();
    expect(await writing).toBe(true); // it did land, before the logout
    expect(await entry(k)).toBeNull();
    for (const s of [slow, other]) expect(await s.get(k, now)).toBeNull();
  });

  it('a write removes a reader’s lease taken before it: the reader’s older fill cannot land', async () => {
    const k = key();
    const now = Date.now();
    const writer = cachedStore({ primary: primary(), cache: cache(), ...quiet });
    await writer.create(k, recordAt(now, { v: 'old' }));
    await redis.del(`${prefix}c:{${k}}`); // evicted
    const base = primary();
    const readDone = gate();
    const release = gate();
    const reader = cachedStore({
      primary: {
        ...base,
        async get(key2, at) {
          const r = await base.get(key2, at);
          readDone.open();
          await release.wait;
          return r;
        },
      },
      cache: cache(),
      ...quiet,
    });
    const reading = reader.get(k, now); // lease, reads 'old', held
    await readDone.wait;
    expect(await entry(k)).toMatch(/^L/);
    await writer.update(k, { set: { v: 'new' } }, now);
    expect(await entry(k)).toBeNull(); // the lease is gone
    release.open();
    expect((await reading)?.data).toEqual({ v: 'old' }); // what it read, before the write
    expect(await entry(k)).toBeNull(); // and its fill did not land
    expect((await writer.get(k, now))?.data).toEqual({ v: 'new' });
  });

  it('the cache stops under a real HTTP server: writes while it is down are never undone by what it kept, and it refills', async () => {
    const { own, client, lines, store, visitor, close } = await cacheOutageServer(primary(), 'v');
    try {
      expect((await visitor.post('/set?key=v&value=1')).status).toBe(200);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 1 });
      const [name] = await client.keys('*c:{*}'); // the entry: <prefix>c:{<hashed token>}
      expect(await client.get(name!)).toMatch(/^V\d+:/); // ordered by version, not leased
      await own.stop(); // saves its data: the entry holding v=1 comes back with the server
      for (let i = 2; i <= 4; i++)
        expect((await visitor.post(`/set?key=v&value=${i}`)).status).toBe(200);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 4 });
      expect(lines).toHaveLength(1);
      await own.start();
      expect(await client.get(name!)).toMatch(/"v":1\b/); // the old entry is back in Redis…
      await new Promise((r) => setTimeout(r, 300)); // past retryAfter
      // …and is removed before the cache is read again: never v=1.
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 4 });
      expect(store.cacheHealthy).toBe(true);
      expect(await client.get(name!)).toMatch(/^V\d+:.*"v":4/s); // refilled
      // Served from the cache now: a change made behind its back is not seen until a write.
      const hashed = name!.slice(name!.indexOf('{') + 1, -1);
      await pool.query(`UPDATE "${schema}".tessera_sessions SET data = '{}' WHERE key = $1`, [
        hashed,
      ]);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 4 });
      expect(lines).toHaveLength(1);
    } finally {
      await close();
    }
  }, 60_000);
});

const { cluster, unavailable: clusterUnavailable } = await redisCluster();
afterAll(async () => {
  if (clusterUnavailable === null) {
    for (const node of cluster.nodes('master')) {
      const keys = await node.keys(`${prefix}*`).catch(() => [] as string[]);
      for (const k of keys) await cluster.del(k).catch(() => {});
    }
  }
  cluster.disconnect();
});

describe.skipIf(unavailable !== null || clusterUnavailable !== null)(
  'cachedStore: PostgreSQL behind a Redis Cluster cache (each entry in a slot of its own)',
  () => {
    const onCluster = () =>
      cachedStore({ primary: primary(), cache: redisStore({ client: cluster, prefix }), ...quiet });

    describe('conformance', () => {
      for (const c of storeConformance({ makeStore: onCluster, disposeStore: async () => {} })) {
        it(c.name, c.run);
      }
    });

    it('apply sends the cache the delta: after each of 150 random writes the entry is PostgreSQL’s row, at its version', async () => {
      await randomWrites(cluster, redisStore({ client: cluster, prefix }));
    });
  },
);
