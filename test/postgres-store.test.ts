import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../src/store.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { storeConformance } from '../src/testing/index.ts';
import { DATABASE_URL, serviceUnavailable } from './support/services.ts';
import { countQueries, getsOfOneTurn } from './support/stores.ts';
import { tcpProxy } from './support/tcp-proxy.ts';

const admin = new pg.Pool({
  connectionString: DATABASE_URL,
  max: 4,
  connectionTimeoutMillis: 3000,
});
admin.on('error', () => {});
const unavailable = await serviceUnavailable('PostgreSQL', () => admin.query('SELECT 1'));
// Each run gets its own schema, dropped at the end, so parallel runs never collide.
const schema = `tessera_test_${randomBytes(4).toString('hex')}`;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
pool.on('error', () => {});

afterAll(async () => {
  if (!unavailable) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  await pool.end();
});

const record = (now: number, data: SessionRecord['data'] = {}, ttl = 60_000): SessionRecord => ({
  data,
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + ttl,
  absoluteExpiresAt: now + 10 * ttl,
  meta: { userAgent: 'test' },
});

/** A store on `table` over the shared pool, counting the statements it sends. */
function countingStore(table: string) {
  const counting = countQueries(pool);
  return {
    counting,
    store: postgresStore({ pool: counting.pool, schema, table, sweepInterval: 0 }),
  };
}

describe.skipIf(unavailable !== null)('postgresStore', () => {
  describe('conformance', () => {
    for (const c of storeConformance({
      makeStore: () => postgresStore({ pool, schema, sweepInterval: 0 }),
    })) {
      it(c.name, c.run);
    }
  });

  it('keeps only hashed keys, jsonb data, indexes and a schema version', async () => {
    const store = postgresStore({ pool, schema, table: 'shape_check', sweepInterval: 0 });
    const now = Date.now();
    await store.create('hashed-key', record(now, { a: 1 }));
    const { rows } = await admin.query(
      `SELECT key, pg_typeof(data)::text AS type FROM "${schema}".shape_check`,
    );
    expect(rows).toEqual([{ key: 'hashed-key', type: 'jsonb' }]);
    const idx = await admin.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'shape_check' ORDER BY 1`,
      [schema],
    );
    expect(idx.rows.map((r) => r.indexname)).toEqual([
      'shape_check_expires_at',
      'shape_check_pkey',
      'shape_check_user_id',
    ]);
    const version = await admin.query(
      `SELECT version FROM "${schema}".tessera_schema WHERE name = 'shape_check'`,
    );
    expect(version.rows).toEqual([{ version: 3 }]);
  });

  it('keys with quotes, dots and dollars are plain keys in the delta', async () => {
    const store = postgresStore({ pool, schema, sweepInterval: 0 });
    const now = Date.now();
    await store.create('quoted', record(now, { 'a"b': 1, $x: 2, "it's": 3, 'a.b': 4 }));
    await store.update(
      'quoted',
      { set: { 'a"b': 10 }, unset: ['$x'], ops: [{ op: 'push', key: "it's", values: [5] }] },
      now,
    );
    expect((await store.get('quoted', now))?.data).toEqual({ 'a"b': 10, "it's": [5], 'a.b': 4 });
  });

  it('purgeExpired deletes expired rows only (10k rows, injected clock)', async () => {
    const store = postgresStore({ pool, schema, table: 'purge_check', sweepInterval: 0 });
    const now = Date.now();
    await store.ping();
    await admin.query(
      `INSERT INTO "${schema}".purge_check SELECT 'k' || i, '{}'::jsonb, NULL, $1::bigint, $1::bigint,
         CASE WHEN i % 2 = 0 THEN $1::bigint + 1000 ELSE $1::bigint + 3600000 END, $1::bigint + 7200000, '{}'::jsonb FROM generate_series(1, 10000) i`,
      [now],
    );
    expect(await store.purgeExpired(now + 2000)).toBe(5000);
    const left = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".purge_check`);
    expect(left.rows[0].n).toBe(5000);
  });

  it('the gets of one turn are one statement, each answered as a get of its own would be', async () => {
    const { counting, store } = countingStore('batch_get');
    expect(await getsOfOneTurn(store, counting)).toBe(1);
    const now = Date.now();
    // A get the server refuses (a clock that is not a whole number of ms) fails alone.
    const mixed = await Promise.allSettled([
      store.get('live-a', now),
      store.get('live-a', now + 0.5),
      store.get('live-b', now),
    ]);
    expect(mixed[0]).toMatchObject({ status: 'fulfilled', value: { data: { a: [1] } } });
    expect(mixed[1]).toMatchObject({
      status: 'rejected',
      reason: { code: 'ERR_SESSION_STORE_UNAVAILABLE' },
    });
    expect(mixed[2]).toMatchObject({ status: 'fulfilled', value: { userId: 'ada' } });
    await store.close();
  });

  it('the writes (apply, update) of one turn are one statement, each landing as a write of its own would', async () => {
    const { counting, store } = countingStore('batch_apply');
    const now = Date.now();
    await store.create('a', record(now, { n: 1, drop: true }));
    await store.create('b', record(now, { cart: ['x'] }));
    await store.create('short', record(now, {}, 1_000));
    counting.statements = 0;
    const answers = await Promise.all([
      store.apply!('a', { set: { n: 2 }, unset: ['drop'] }, now),
      store.apply!('b', { ops: [{ op: 'push', key: 'cart', values: ['y'] }] }, now),
      store.apply!('missing', { set: { n: 1 } }, now),
      store.apply!('short', { set: { late: true } }, now + 2_000), // expired at its clock
      store.apply!('b', { ops: [{ op: 'push', key: 'cart', values: ['z'] }] }, now), // b again
      store.apply!('a', { set: { k: 'v' }, expiresAt: now + 90_000, lastSeenAt: now + 5 }, now),
    ]);
    expect(answers).toEqual([true, true, false, false, true, true]);
    expect(counting.statements).toBe(3); // the batch, then b's and a's second writes on their own
    const a = await store.get('a', now);
    expect(a?.data).toEqual({ n: 2, k: 'v' });
    expect([a?.expiresAt, a?.lastSeenAt]).toEqual([now + 90_000, now + 5]);
    expect((await store.get('b', now))?.data['cart']).toEqual(['x', 'y', 'z']);
    expect((await store.get('short', now))?.data).toEqual({});
    // `update` (the record after the write: what cachedStore keeps) in one statement too.
    counting.statements = 0;
    const records = await Promise.all([
      store.update('a', { ops: [{ op: 'increment', key: 'n', by: 3 }] }, now),
      store.update('missing', { set: { n: 1 } }, now),
      store.update('b', { unset: ['cart'], lastSeenAt: now + 7 }, now),
    ]);
    expect(counting.statements).toBe(1);
    expect(records.map((r) => r && [r.data, r.lastSeenAt])).toEqual([
      [{ n: 5, k: 'v' }, now + 5],
      null,
      [{}, now + 7],
    ]);
    expect(records[0]).toEqual(await store.get('a', now));
    await store.close();
  });

  it('the creates of one turn are one statement and one commit, each row as a create of its own writes it', async () => {
    const { counting, store } = countingStore('batch_create');
    const now = Date.now();
    const made = (n: number, userId: string | null = null): SessionRecord => ({
      ...record(now, { n, text: `"quoted" \\ ${n}`, list: [n, { deep: n }] }),
      userId,
      meta: { userAgent: `agent ${n}`, ip: '203.0.113.7' },
    });
    await store.create('c-0', made(0)); // written over below, as a create does
    counting.statements = 0;
    await Promise.all([
      store.create('c-1', made(1)),
      store.create('c-2', made(2, 'ada')),
      store.create('c-0', made(10, 'ada')),
      store.create('c-1', made(11)), // the same key again in the turn: after the batch
    ]);
    expect(counting.statements).toBe(2);
    expect(await store.get('c-1', now)).toEqual(made(11));
    expect(await store.get('c-2', now)).toEqual(made(2, 'ada'));
    expect(await store.get('c-0', now)).toEqual(made(10, 'ada'));
    expect((await store.listByUser('ada', now)).map((s) => s.key).sort()).toEqual(['c-0', 'c-2']);
    await store.close();
  });

  it('a batch that finds a row locked waits for no lock: its writes go one by one, and a transaction locking rows in the other order is not deadlocked', async () => {
    // The errors the store's statements met, by SQLSTATE.
    const codes: string[] = [];
    const watching = Object.create(pool) as pg.Pool;
    watching.query = ((...args: Parameters<pg.Pool['query']>) =>
      (pool.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((err) => {
        codes.push((err as { code: string }).code);
        throw err;
      })) as pg.Pool['query'];
    const store = postgresStore({
      pool: watching,
      schema,
      table: 'batch_lock',
      sweepInterval: 0,
    });
    const now = Date.now();
    await store.create('k1', record(now, { v: 0 }));
    await store.create('k2', record(now, { v: 0 }));
    const other = await admin.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM "${schema}".batch_lock WHERE key = 'k2' FOR UPDATE`);
      const writes = Promise.all([
        store.apply!('k1', { set: { v: 1 } }, now),
        store.apply!('k2', { set: { v: 1 } }, now),
      ]);
      // Had the batch locked k1 and waited for k2, this would be a deadlock (one of the two
      // aborted after a second); k1's own write has committed, so this only waits for it.
      await new Promise((r) => setTimeout(r, 100));
      await other.query(`SELECT 1 FROM "${schema}".batch_lock WHERE key = 'k1' FOR UPDATE`);
      await other.query('COMMIT');
      expect(await writes).toEqual([true, true]);
      expect(codes).toEqual(['55P03']); // the batch: lock not available, at once; no 40P01 deadlock
    } finally {
      other.release();
    }
    for (const k of ['k1', 'k2']) expect((await store.get(k, now))?.data).toEqual({ v: 1 });
    await store.close();
  });

  it('a dropped table is recreated on the next call', async () => {
    const store = postgresStore({ pool, schema, table: 'drop_check', sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { a: 1 }));
    await admin.query(`DROP TABLE "${schema}".drop_check`);
    expect(await store.get('k', now)).toBeNull();
    await store.create('k', record(now, { a: 2 }));
    expect((await store.get('k', now))?.data).toEqual({ a: 2 });
  });

  it('without createTable a missing table is ERR_SESSION_STORE_UNAVAILABLE with the cause', async () => {
    const store = postgresStore({
      pool,
      schema,
      table: 'never_created',
      createTable: false,
      sweepInterval: 0,
    });
    await expect(store.get('k', Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      cause: expect.objectContaining({ code: '42P01' }),
    });
  });

  it('an unreachable server fails within the connection timeout with the typed error', async () => {
    const store = postgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      poolConfig: { connectionTimeoutMillis: 1000 },
      sweepInterval: 0,
    });
    const started = Date.now();
    await expect(store.get('k', Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
    });
    expect(Date.now() - started).toBeLessThan(10_000); // bounded, not a hang (loose: a shared machine)
    await store.close();
  });

  it('the network to PostgreSQL drops mid-test: typed errors, then recovery without a restart', async () => {
    const { port } = new URL(DATABASE_URL);
    const proxy = await tcpProxy(Number(port || 5432));
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    const store = postgresStore({
      connectionString: url.href,
      schema,
      poolConfig: { connectionTimeoutMillis: 1000 },
      sweepInterval: 0,
    });
    const now = Date.now();
    await store.create('outage', record(now, { before: true }));
    await proxy.cut();
    await expect(store.get('outage', now)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
    });
    await expect(store.update('outage', { set: { during: true } }, now)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
    });
    await proxy.restore();
    let back = null;
    for (let i = 0; i < 20 && !back; i++) back = await store.get('outage', now).catch(() => null);
    expect(back?.data).toEqual({ before: true }); // nothing lost, nothing half-written
    expect(await store.update('outage', { set: { after: true } }, now)).not.toBeNull();
    await store.close();
    await proxy.close();
  });

  it('bad options are ERR_SESSION_CONFIG at construction', () => {
    expect(() => postgresStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
    expect(() => postgresStore({ pool, table: 'Sessions; DROP' })).toThrow(
      /lower-case SQL identifier/,
    );
  });
});
