/**
 * cachedStore: the conformance suite on two combinations, the stale-fill race made to happen, a
 * cache outage and a primary outage through a real HTTP server, what a per-process memoryStore
 * cache does and does not guarantee, and several processes sharing PostgreSQL and Redis.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { entryRecord } from '../src/lib/cache-sides.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import type { SessionRecord, SessionStore } from '../src/store.ts';
import { cachedStore } from '../src/stores/cached.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { redisStore } from '../src/stores/redis.ts';
import { sqliteStore } from '../src/stores/sqlite.ts';
import { storeConformance } from '../src/testing/index.ts';
import { testApp } from './support/app.ts';
import { startAppProcess } from './support/app-process.ts';
import { cacheOutageServer } from './support/cache-outage.ts';
import { Browser, listen } from './support/http.ts';
import { DATABASE_URL, REDIS_URL, serviceUnavailable } from './support/services.ts';
import { counted } from './support/stores.ts';

const noPostgres = await serviceUnavailable('PostgreSQL', async () => {
  const c = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  await c.end();
});
const noRedis = await serviceUnavailable('Redis', async () => {
  const c = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  await c.connect();
  c.disconnect();
});
const shared = noPostgres ?? noRedis;

const schema = `tessera_cached_${randomBytes(4).toString('hex')}`;
const prefix = `tessera-cached-${randomBytes(4).toString('hex')}:`;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
pool.on('error', () => {});
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
redis.on('error', () => {});

afterAll(async () => {
  if (!shared) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  await pool.end();
  redis.disconnect();
});

const record = (now: number, data: SessionRecord['data'] = {}, ttl = 60_000): SessionRecord => ({
  data,
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + ttl,
  absoluteExpiresAt: now + 10 * ttl,
  meta: {},
});
const key = () => randomBytes(32).toString('base64url');
const quiet = { log: () => {} };

/**
 * The two ways cachedStore keeps its entries in a shared cache: redisStore's `cacheEntries` (a
 * string per key, filled by compare-and-set), and the session records any store has (what a cache
 * without entries gets), here on the same Redis so that the races below run against both.
 */
const layouts = {
  entries: {
    cacheOn: (client: Redis) => redisStore({ client, prefix }),
    /** What the cache holds for `k`: a hit's record, or an unfilled lease. */
    async inspect(k: string): Promise<{ hit: boolean; record?: SessionRecord } | null> {
      const value = await redis.get(`${prefix}c:{${k}}`);
      if (value === null) return null;
      // A record (`R…`, or `V…` from a primary that versions its records), else a lease.
      const record = entryRecord(value);
      return record ? { hit: true, record } : { hit: false };
    },
    evict: async (k: string) => void (await redis.del(`${prefix}c:{${k}}`)),
  },
  records: {
    cacheOn: (client: Redis): SessionStore => {
      const { cacheEntries: _, ...records } = redisStore({ client, prefix });
      return records;
    },
    async inspect(k: string): Promise<{ hit: boolean; record?: SessionRecord } | null> {
      const entry = (await redisStore({ client: redis, prefix }).get(k, Date.now()))?.data as
        | { lease?: string; filled?: string; record?: SessionRecord }
        | undefined;
      if (!entry) return null;
      const hit = !!entry.record && entry.filled === entry.lease;
      return entry.record ? { hit, record: entry.record } : { hit };
    },
    evict: async (k: string) => void (await redisStore({ client: redis, prefix }).destroy(k)),
  },
};

for (const [layout, { cacheOn, inspect, evict }] of Object.entries(layouts))
  describe.skipIf(shared !== null)(
    `cachedStore: PostgreSQL behind a Redis cache (${layout})`,
    () => {
      /** A PostgreSQL primary and a Redis cache, as two app servers would each open them. */
      const pgRedis = () => ({
        primary: postgresStore({ pool, schema, sweepInterval: 0 }),
        cache: cacheOn(redis),
      });

      describe('conformance', () => {
        for (const c of storeConformance({
          makeStore: () => cachedStore({ ...pgRedis(), ...quiet }),
          disposeStore: async () => {}, // the pool and the client are shared by the file
        })) {
          it(c.name, c.run);
        }
      });

      it('reads are served from the cache once filled; a write puts the new record in it (write-through)', async () => {
        const primary = counted(postgresStore({ pool, schema, sweepInterval: 0 }));
        const store = cachedStore({ primary, cache: cacheOn(redis), ...quiet });
        const k = key();
        const now = Date.now();
        await store.create(k, record(now, { v: 1 }));
        primary.reset();
        for (let i = 0; i < 5; i++) expect((await store.get(k, now))?.data).toEqual({ v: 1 });
        expect(primary.calls['get'] ?? 0).toBe(0); // the create filled the cache
        expect((await store.update(k, { set: { v: 2 } }, now))?.data).toEqual({ v: 2 });
        expect((await store.touch(k, now + 90_000, now + 1, now))?.lastSeenAt).toBe(now + 1);
        expect((await store.get(k, now))?.data).toEqual({ v: 2 });
        expect((await store.get(k, now))?.expiresAt).toBe(now + 90_000);
        expect(primary.calls['get'] ?? 0).toBe(0); // no miss after the writes
      });

      it('concurrent writes of one session in one process keep its entry: one after another, each written through, none removing it', async () => {
        const primary = counted(postgresStore({ pool, schema, sweepInterval: 0 }));
        const store = cachedStore({ primary, cache: cacheOn(redis), ...quiet });
        const k = key();
        const now = Date.now();
        await store.create(k, record(now, { cart: [] }));
        await evict(k);
        // A read that misses while writes are under way, then twenty writes at once.
        const reading = store.get(k, now);
        const written = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.update(k, { ops: [{ op: 'push', key: 'cart', values: [i] }] }, now),
          ),
        );
        expect((await reading)?.data['cart']).toBeDefined();
        // One after another: each saw every earlier one (the cart grew by one each time).
        expect(written.map((r) => (r?.data['cart'] as number[] | undefined)?.length)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        // The last write's record is the entry, a hit: no write removed it (each took its
        // lease with no other write's lease in between).
        const entry = await inspect(k);
        expect(entry?.hit).toBe(true);
        expect(entry?.record?.data['cart']).toHaveLength(20);
        primary.reset();
        expect((await store.get(k, now))?.data['cart']).toHaveLength(20);
        expect(primary.calls['get'] ?? 0).toBe(0);
      });

      it('write-through across two app servers: B reads A’s write from the cache, with no primary read', async () => {
        // Two processes each open their own clients to the shared PostgreSQL and Redis.
        const otherPool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
        const otherRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        try {
          const primaryA = counted(postgresStore({ pool, schema, sweepInterval: 0 }));
          const primaryB = counted(postgresStore({ pool: otherPool, schema, sweepInterval: 0 }));
          const a = cachedStore({
            primary: primaryA,
            cache: cacheOn(redis),
            ...quiet,
          });
          const b = cachedStore({
            primary: primaryB,
            cache: cacheOn(otherRedis),
            ...quiet,
          });
          const k = key();
          const now = Date.now();
          await a.create(k, record(now, { v: 1, cart: ['x'] }));
          expect((await b.get(k, now))?.data).toEqual({ v: 1, cart: ['x'] });
          for (let n = 2; n <= 6; n++) {
            const [writer, reader] = n % 2 === 0 ? [a, b] : [b, a];
            await writer.update(
              k,
              { set: { v: n }, ops: [{ op: 'push', key: 'cart', values: [`i${n}`] }] },
              now,
            );
            expect((await reader.get(k, now))?.data['v']).toBe(n);
          }
          expect((await a.get(k, now))?.data['cart']).toEqual(['x', 'i2', 'i3', 'i4', 'i5', 'i6']);
          // Every read above came from the cache: the primaries only saw the writes.
          expect(primaryA.calls['get'] ?? 0).toBe(0);
          expect(primaryB.calls['get'] ?? 0).toBe(0);
          expect((primaryA.calls['update'] ?? 0) + (primaryB.calls['update'] ?? 0)).toBe(5);
          // A destroy on one server: the other never serves the record again.
          await b.destroy(k);
          expect(await a.get(k, now)).toBeNull();
          expect(await a.update(k, { set: { back: true } }, now)).toBeNull();
          expect(await b.get(k, now)).toBeNull();
          // At most a reader's unfilled lease is left in the cache, never the record.
          expect((await inspect(k))?.record).toBeUndefined();
        } finally {
          await otherPool.end();
          otherRedis.disconnect();
        }
      });

      it('write-through race: a write whose lease was superseded never leaves its older record as a hit', async () => {
        // W2 takes its lease, then W1 a newer one (the current lease is W1's). On the primary W1 lands
        // first and W2 second, so W2's record holds both changes and W1's lacks W2's. W2 fills first
        // (a miss: not its lease), completes, and only then W1's fill lands under its current lease:
        // unless a write that finds its lease superseded removes the entry, W1's older record would
        // be a hit after W2's write completed.
        const base = postgresStore({ pool, schema, sweepInterval: 0 });
        const gate = () => {
          let open: () => void = () => {};
          const shut = new Promise<void>((r) => (open = r));
          return { open, shut };
        };
        const start1 = gate();
        const landed1 = gate();
        const done2 = gate();
        const order: number[] = [];
        const slow = (n: number, before: Promise<void>, after: Promise<void>): SessionStore => ({
          ...base,
          async update(k, delta, now) {
            await before;
            const r = await base.update(k, delta, now);
            order.push(n);
            if (n === 1) landed1.open();
            await after;
            return r;
          },
        });
        const cache = () => cacheOn(redis);
        const k = key();
        const now = Date.now();
        const seed = cachedStore({ ...pgRedis(), ...quiet });
        await seed.create(k, record(now, { v: 0 }));
        const w2 = cachedStore({
          primary: slow(2, landed1.shut, Promise.resolve()),
          cache: cache(),
          ...quiet,
        });
        const w1 = cachedStore({
          primary: slow(1, start1.shut, done2.shut),
          cache: cache(),
          ...quiet,
        });
        const p2 = w2.update(k, { set: { two: true } }, now);
        await new Promise((r) => setTimeout(r, 50)); // W2's lease is in
        const p1 = w1.update(k, { set: { one: true } }, now);
        await new Promise((r) => setTimeout(r, 50)); // W1's lease is in: the current one
        start1.open(); // W1 lands, then W2 lands and fills
        expect((await p2)?.data).toEqual({ v: 0, one: true, two: true }); // W2 completed
        done2.open(); // only now W1's fill (of { v: 0, one: true }) lands
        expect((await p1)?.data).toEqual({ v: 0, one: true });
        expect(order).toEqual([1, 2]);
        // No read after W2's completed write returns a record without it.
        for (const s of [w1, w2, seed])
          expect((await s.get(k, now))?.data).toEqual({ v: 0, one: true, two: true });
      });

      it('a late fill landing on another reader’s lease reads as a miss, never as the old record', async () => {
        const base = postgresStore({ pool, schema, sweepInterval: 0 });
        let release: () => void = () => {};
        let readDone: () => void = () => {};
        const paused = new Promise<void>((r) => (release = r));
        const hasRead = new Promise<void>((r) => (readDone = r));
        let pause = true;
        const slowPrimary: SessionStore = {
          ...base,
          async get(k, now) {
            const r = await base.get(k, now);
            if (pause) {
              pause = false;
              readDone();
              await paused;
            }
            return r;
          },
        };
        const a = cachedStore({
          primary: slowPrimary,
          cache: cacheOn(redis),
          ...quiet,
        });
        const b = cachedStore({ ...pgRedis(), ...quiet });
        const k = key();
        const now = Date.now();
        await b.create(k, record(now, { v: 'old' }));
        await evict(k);
        const reading = a.get(k, now); // A: lease, read 'old', paused
        await hasRead;
        // B's write ends A's lease: with its own lease and a fill (a cache without versions), or
        // by removing it (PostgreSQL's versions, and a cache that compares them).
        await b.update(k, { set: { v: 'new' } }, now);
        const between = await inspect(k);
        expect(between === null || (between.hit && between.record?.data['v'] === 'new')).toBe(true);
        await evict(k); // evicted: C misses
        const c = cachedStore({ ...pgRedis(), ...quiet });
        await c.get(k, now); // C: lease + 'new' + fill
        release();
        await reading; // A's fill lands on C's live entry, with A's lease id
        // A's fill either wrote nothing or left an entry that is no hit: never 'old' as a hit.
        const after = await inspect(k);
        if (after?.hit) expect(after.record?.data['v']).toBe('new');
        for (const s of [a, b, c]) expect((await s.get(k, now))?.data).toEqual({ v: 'new' });
      });

      it('a revocation racing a login cannot leave the new session alive in the cache', async () => {
        const store = cachedStore({ ...pgRedis(), ...quiet });
        const other = cachedStore({ ...pgRedis(), ...quiet });
        const now = Date.now();
        const oldKey = key();
        const newKey = key();
        await store.create(oldKey, record(now, { cart: ['a'] }));
        if (!store.regenerate) return; // the primary predates regenerate
        const moved = await store.regenerate(oldKey, newKey, { delta: {}, userId: 'u-race' }, now);
        expect(moved?.userId).toBe('u-race');
        expect((await other.get(newKey, now))?.userId).toBe('u-race'); // filled
        await other.destroyByUser('u-race');
        for (const s of [store, other]) {
          expect(await s.get(newKey, now)).toBeNull();
          expect(await s.get(oldKey, now)).toBeNull();
        }
      });

      it('bad options are ERR_SESSION_CONFIG at construction', () => {
        const { primary, cache } = pgRedis();
        expect(() => cachedStore({ primary } as never)).toThrow(
          expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
        );
        expect(() => cachedStore({ primary, cache: primary })).toThrow(/two different stores/);
        expect(() => cachedStore({ primary, cache, ttl: 0 })).toThrow(/ttl/);
      });
    },
  );

describe('cachedStore: SQLite behind a per-process memoryStore', () => {
  describe('conformance', () => {
    for (const c of storeConformance({
      makeStore: () =>
        cachedStore({
          primary: sqliteStore({ path: ':memory:', sweepInterval: 0 }),
          cache: memoryStore({ sweepInterval: 0 }),
          ...quiet,
        }),
    })) {
      it(c.name, c.run);
    }
  });

  it('what is guaranteed: one process reads its own writes; another process may read the older record until ttl', async () => {
    const primary = memoryStore({ sweepInterval: 0 }); // one shared source of truth
    const ttl = 30_000;
    const a = cachedStore({ primary, cache: memoryStore({ sweepInterval: 0 }), ttl, ...quiet });
    const b = cachedStore({ primary, cache: memoryStore({ sweepInterval: 0 }), ttl, ...quiet });
    const k = key();
    const now = Date.now();
    await a.create(k, record(now, { v: 1 }, 3_600_000));
    expect((await b.get(k, now))?.data).toEqual({ v: 1 }); // B's own cache now holds v1
    await a.update(k, { set: { v: 2 } }, now);
    expect((await a.get(k, now))?.data).toEqual({ v: 2 }); // the writer's process: fresh
    expect((await b.get(k, now + ttl - 1))?.data).toEqual({ v: 1 }); // documented: stale, up to ttl
    expect((await b.get(k, now + ttl))?.data).toEqual({ v: 2 });
    // Even a destroy is seen late by the other process: why docs/stores/cached.md says one process only.
    expect((await b.get(k, now + ttl))?.data).toEqual({ v: 2 });
    await a.destroy(k);
    expect(await a.get(k, now + ttl)).toBeNull();
    expect(await b.get(k, now + ttl)).not.toBeNull();
    expect(await b.get(k, now + 2 * ttl)).toBeNull();
  });
});

describe.skipIf(noPostgres !== null)('cachedStore outages, through a real HTTP server', () => {
  it('the cache stops: requests are served from the primary, one log line, stale entries are never served after, the cache refills', async () => {
    const primary = counted(postgresStore({ pool, schema, sweepInterval: 0 }));
    const { own, client, lines, store, visitor, close } = await cacheOutageServer(primary, 'c');
    try {
      expect((await visitor.post('/set?key=v&value=1')).status).toBe(200);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 1 }); // cached
      await own.stop(); // saves its data: the entry holding v=1 comes back with the server
      const statuses: number[] = [];
      for (let i = 2; i <= 6; i++)
        statuses.push((await visitor.post(`/set?key=v&value=${i}`)).status);
      for (let i = 0; i < 5; i++) statuses.push((await visitor.get('/get?key=v')).status);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 6 });
      expect(lines).toHaveLength(1);
      expect(store.cacheHealthy).toBe(false);
      await own.start();
      expect(await client.dbsize()).toBeGreaterThan(0); // the entry holding v=1 is back
      await new Promise((r) => setTimeout(r, 300)); // past retryAfter
      // The first read replays the missed removal before using the cache: never v=1.
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 6 });
      expect(store.cacheHealthy).toBe(true);
      primary.reset();
      for (let i = 0; i < 3; i++)
        expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 6 });
      expect(primary.calls['get'] ?? 0).toBe(0); // refilled: served from the cache again
      expect(lines).toHaveLength(1);
    } finally {
      await close();
    }
  }, 60_000);

  it('the primary fails: writes are 503 ERR_SESSION_STORE_UNAVAILABLE, then the same server recovers', async () => {
    const primary = counted(postgresStore({ pool, schema, sweepInterval: 0 }));
    const store = cachedStore({ primary, cache: memoryStore({ sweepInterval: 0 }), ...quiet });
    const sessions = createSessions({ secrets: ['d'.repeat(32)], store });
    const server = await listen(testApp(sessions as never));
    try {
      const visitor = new Browser(server.url);
      expect((await visitor.post('/set?key=v&value=1')).status).toBe(200);
      primary.down = true;
      const failed = await visitor.post('/set?key=v&value=2');
      expect(failed.status).toBe(503);
      expect(failed.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
      expect((await new Browser(server.url).post('/set?key=v&value=1')).status).toBe(503);
      primary.down = false;
      expect((await visitor.post('/set?key=v&value=3')).status).toBe(200);
      expect((await visitor.get('/get?key=v')).json()).toMatchObject({ out: 3 });
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(shared !== null)(
  'cachedStore: three app processes sharing PostgreSQL and a Redis cache',
  () => {
    it('every read after a completed write, on any process, sees it; concurrent pushes all land; a logout is effective everywhere', async () => {
      const spec = `cached:${schema}:${prefix}`;
      const started = await Promise.allSettled([0, 1, 2].map(() => startAppProcess(spec)));
      const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      try {
        if (up.length < 3)
          throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
        const visitor = new Browser(up[0]!.url);
        const via = async (i: number, path: string, method = 'GET') => {
          const other = new Browser(up[i % 3]!.url);
          for (const [k, v] of visitor.jar) other.jar.set(k, v);
          const r = await other.request(path, { method });
          for (const [k] of visitor.jar) if (!other.jar.has(k)) visitor.jar.delete(k);
          for (const [k, v] of other.jar) visitor.jar.set(k, v);
          return r;
        };
        await via(0, '/set?key=n&value=0', 'POST');
        // Write on one process, read at once on the others: never the older value.
        for (let n = 1; n <= 30; n++) {
          await via(n, `/set?key=n&value=${n}`, 'POST');
          expect((await via(n + 1, '/get?key=n')).json()).toMatchObject({ out: n });
          expect((await via(n + 2, '/get?key=n')).json()).toMatchObject({ out: n });
        }
        await Promise.all(
          Array.from({ length: 15 }, (_, i) => via(i, `/push?key=cart&value="p${i}"`, 'POST')),
        );
        for (let i = 0; i < 3; i++) {
          const cart = (await via(i, '/get?key=cart')).json<{ out: string[] }>().out;
          expect([...cart].sort()).toEqual(Array.from({ length: 15 }, (_, j) => `p${j}`).sort());
        }
        // Concurrent writes of other keys from the three processes: each sends the cache only its
        // delta, applied over exactly the version before it; patches that land out of order remove
        // the entry instead. Either way every key is read back on every process.
        await Promise.all(
          Array.from({ length: 15 }, (_, i) => via(i, `/set?key=k${i}&value=${i}`, 'POST')),
        );
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 15; j++) {
            expect((await via(i, `/get?key=k${j}`)).json()).toMatchObject({ out: j });
          }
        }
        await via(0, '/login?user=cached-multi', 'POST');
        expect((await via(1, '/get?key=n')).json()).toMatchObject({
          userId: 'cached-multi',
          out: 30,
        });
        const loggedIn = visitor.jar.get('sid')!;
        await via(2, '/logout', 'POST');
        for (const p of up) {
          const replay = new Browser(p.url);
          replay.jar.set('sid', loggedIn);
          expect((await replay.get('/get?key=n')).json()).toMatchObject({
            userId: null,
            isNew: true,
          });
        }
      } finally {
        await Promise.all(up.map((p) => p.stop()));
      }
    }, 60_000);
  },
);
