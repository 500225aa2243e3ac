import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionRecord, SessionStore } from '../src/store.ts';
import { mysqlSchema, mysqlStore } from '../src/stores/mysql.ts';
import { storeConformance } from '../src/testing/index.ts';
import { MYSQL_URL, serviceUnavailable } from './support/services.ts';
import { countQueries, getsOfOneTurn } from './support/stores.ts';
import { tcpProxy } from './support/tcp-proxy.ts';

const admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2, connectTimeout: 3000 });
const unavailable = await serviceUnavailable('MariaDB/MySQL', () => admin.query('SELECT 1'));
// Each run gets its own table prefix; every table made is dropped at the end.
const prefix = `tessera_test_${randomBytes(4).toString('hex')}`;
const tables: string[] = [];
const tableName = (what: string) => {
  const name = `${prefix}_${what}`;
  tables.push(name);
  return name;
};
const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 8 });

afterAll(async () => {
  if (!unavailable)
    for (const name of tables)
      await admin.query(`DROP TABLE IF EXISTS \`${name}\`, \`${name}_revoked\``);
  await admin.end();
  await pool.end();
});

const indexesOf = async (table: string) => {
  const [idx] = await admin.query(
    `SELECT DISTINCT index_name AS name FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1`,
    [table],
  );
  return (idx as { name: string }[]).map((r) => r.name);
};

const record = (now: number, data: SessionRecord['data'] = {}, ttl = 60_000): SessionRecord => ({
  data,
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + ttl,
  absoluteExpiresAt: now + 10 * ttl,
  meta: { userAgent: 'test' },
});

describe.skipIf(unavailable !== null)('mysqlStore (MariaDB)', () => {
  const conformanceTable = tableName('conformance');
  describe('conformance', () => {
    for (const c of storeConformance({
      makeStore: () => mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 }),
    })) {
      it(c.name, c.run);
    }
  });

  it('the gets of one turn are one statement, each answered as a get of its own would be', async () => {
    const counting = countQueries(pool);
    const store = mysqlStore({
      pool: counting.pool,
      table: tableName('batch_get'),
      sweepInterval: 0,
    });
    expect(await getsOfOneTurn(store, counting)).toBe(1);
    await store.close();
  });

  it('keeps hashed keys case-sensitively, JSON text in key order, and both indexes', async () => {
    const table = tableName('shape');
    const store = mysqlStore({ pool, table, sweepInterval: 0 });
    const now = Date.now();
    // Two keys that a case-insensitive collation would make one row.
    await store.create('AbC', record(now, { z: 1, a: 2, m: { y: 1, b: 2 } }));
    await store.create('abc', record(now, { other: true }));
    expect((await store.get('AbC', now))?.data).toEqual({ z: 1, a: 2, m: { y: 1, b: 2 } });
    expect(Object.keys((await store.get('AbC', now))!.data)).toEqual(['z', 'a', 'm']);
    expect((await store.get('abc', now))?.data).toEqual({ other: true });
    expect(await indexesOf(table)).toEqual(['PRIMARY', `${table}_expires_at`, `${table}_user`]);
  });

  it('keys with quotes, backslashes, dots, dollars and unicode are plain keys in the delta', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const now = Date.now();
    const odd = {
      'a"b': 1,
      $x: 2,
      "it's": 3,
      'a.b': 4,
      'back\\slash': 5,
      日本: 6,
      '[0]': 7,
      '*': 8,
    };
    await store.create('quoted', record(now, odd));
    expect(
      await store.update(
        'quoted',
        {
          set: { 'a"b': 10, 'back\\slash': { deep: 'x' } },
          unset: ['$x', '*'],
          ops: [
            { op: 'push', key: "it's", values: [5] },
            { op: 'increment', key: '日本', by: 1 },
            { op: 'pull', key: '[0]', values: [7] },
          ],
        },
        now,
      ),
    ).not.toBeNull();
    expect((await store.get('quoted', now))?.data).toEqual({
      'a"b': 10,
      "it's": [5],
      'a.b': 4,
      'back\\slash': { deep: 'x' },
      日本: 7,
      '[0]': 7,
    });
  });

  it('pull compares as JSON: objects match whatever their key order', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const now = Date.now();
    await store.create('pull-json', record(now, { l: [{ a: 1, b: 2 }, { a: 2 }, 'x', 1.5] }));
    await store.update(
      'pull-json',
      { ops: [{ op: 'pull', key: 'l', values: [{ b: 2, a: 1 }, 1.5] }] },
      now,
    );
    expect((await store.get('pull-json', now))?.data['l']).toEqual([{ a: 2 }, 'x']);
    await store.update(
      'pull-json',
      { ops: [{ op: 'pull', key: 'l', values: [{ a: 2 }, 'x'] }] },
      now,
    );
    expect((await store.get('pull-json', now))?.data['l']).toEqual([]);
  });

  it('several ops on one key apply in order, in one statement', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const now = Date.now();
    await store.create('ops-order', record(now, { l: ['a'], n: 1.5 }));
    await store.update(
      'ops-order',
      {
        ops: [
          { op: 'push', key: 'l', values: ['b', 'c'] },
          { op: 'pull', key: 'l', values: ['a'] },
          { op: 'push', key: 'l', values: ['a'] },
          { op: 'increment', key: 'n', by: 0.25 },
          { op: 'increment', key: 'n', by: 2 },
        ],
      },
      now,
    );
    const data = (await store.get('ops-order', now))?.data;
    expect(data?.['l']).toEqual(['b', 'c', 'a']);
    expect(data?.['n']).toBe(3.75);
  });

  it('regenerate moves a live record in one statement and refuses a dead one', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const now = Date.now();
    await store.create('regen-old', record(now, { cart: ['a'] }));
    await store.update('regen-old', { ops: [{ op: 'push', key: 'cart', values: ['b'] }] }, now);
    const moved = await store.regenerate(
      'regen-old',
      'regen-new',
      {
        delta: { ops: [{ op: 'push', key: 'cart', values: ['c'] }], set: { lang: 'fr' } },
        userId: 'u-regen',
      },
      now,
    );
    expect(moved?.data).toEqual({ cart: ['a', 'b', 'c'], lang: 'fr' });
    expect(moved?.userId).toBe('u-regen');
    expect(await store.get('regen-old', now)).toBeNull();
    expect((await store.listByUser('u-regen', now)).map((s) => s.key)).toEqual(['regen-new']);
    expect(
      await store.regenerate('regen-old', 'regen-again', { delta: {}, userId: null }, now),
    ).toBeNull();
    expect(await store.get('regen-again', now)).toBeNull();
  });

  for (const isolation of ['REPEATABLE-READ', 'READ-COMMITTED']) {
    it(`a regenerate racing "sign out everywhere" on another connection never leaves a live session (200 rounds, pools at ${isolation})`, async () => {
      const table = tableName(`race_${isolation.slice(0, 4).toLowerCase()}`);
      // Every connection of both pools starts at this isolation level, as a server or pool set so would.
      const pools = [1, 2].map(() => {
        const p = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 });
        p.on('connection', (c) => {
          c.query(`SET SESSION tx_isolation = '${isolation}'`);
        });
        return p;
      });
      try {
        const [a, b] = pools.map((p) => mysqlStore({ pool: p, table, sweepInterval: 0 }));
        const now = Date.now();
        let regenerated = 0;
        for (let i = 0; i < 200; i++) {
          const user = `racer-${i}`;
          await a!.create(`r${i}`, { ...record(now, { n: i }), userId: user });
          await a!.create(`s${i}`, { ...record(now), userId: user });
          const [moved] = await Promise.all([
            a!.regenerate(`r${i}`, `m${i}`, { delta: { set: { m: 1 } }, userId: user }, now),
            b!.destroyByUser(user),
          ]);
          if (moved) regenerated++;
          expect(await a!.get(`m${i}`, now)).toBeNull();
          expect(await b!.get(`r${i}`, now)).toBeNull();
          expect(await a!.listByUser(user, now)).toEqual([]);
        }
        const [level] = await pools[0]!.query('SELECT @@tx_isolation AS level');
        expect((level as { level: string }[])[0]!.level).toBe(isolation);
        // Both orders happened: some regenerates landed first (and were revoked), some came too late.
        expect(regenerated).toBeGreaterThan(0);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });
  }

  it('a key marked by a revocation is refused by every call, on any connection, until its row goes with its mark', async () => {
    const table = tableName('marks');
    const a = mysqlStore({ pool, table, sweepInterval: 0 });
    const other = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    const b = mysqlStore({ pool: other, table, sweepInterval: 0 });
    try {
      const now = Date.now();
      const mine = (lastSeenAt: number) => ({
        ...record(now, { v: 1 }),
        userId: 'marked-user',
        lastSeenAt,
      });
      await a.create('marked', mine(now + 5));
      await a.create('kept-1', mine(now + 1));
      await a.create('kept-2', mine(now + 2));
      // A revocation that has marked the key and not yet deleted the row (its reap comes after).
      await admin.query(`INSERT INTO \`${table}_revoked\` (\`key\`) VALUES ('marked')`);
      for (const s of [a, b]) {
        expect(await s.get('marked', now)).toBeNull();
        expect(await s.update('marked', { set: { v: 2 } }, now)).toBeNull();
        expect(await s.apply!('marked', { set: { v: 3 } }, now)).toBe(false);
        expect(await s.touch('marked', now + 60_000, now, now)).toBeNull();
        expect(
          await s.regenerate('marked', 'escaped', { delta: {}, userId: null }, now),
        ).toBeNull();
        expect(await s.get('escaped', now)).toBeNull();
        expect(await s.destroy('marked')).toBe(false);
        expect((await s.listByUser('marked-user', now)).map((x) => x.key).sort()).toEqual([
          'kept-1',
          'kept-2',
        ]);
        // The newest session is revoked: it neither counts towards the cap nor is listed again.
        expect(await s.destroyUserSurplus!('marked-user', { keep: 2 }, now)).toEqual([]);
        expect(await s.destroyByUser('marked-user', { keys: ['marked'] })).toEqual([]);
      }
      // The purge leaves the marked row to the reap, which deletes it with its mark.
      const count = async (t: string) =>
        Number(
          ((await admin.query(`SELECT COUNT(*) AS n FROM \`${t}\``))[0] as { n: number }[])[0]!.n,
        );
      expect(await a.purgeExpired(now)).toBe(0);
      expect(await count(table)).toBe(2);
      expect(await count(`${table}_revoked`)).toBe(0);
    } finally {
      await other.end();
    }
  });

  it('sign out everywhere marks 5 000 keys and resolves; the rows then go by themselves, with their marks', async () => {
    const table = tableName('revoke');
    const a = mysqlStore({ pool, table, sweepInterval: 0 });
    const now = Date.now();
    await a.create('keep', { ...record(now), userId: 'many' });
    await a.create('someone-else', { ...record(now), userId: 'other' });
    await admin.query(
      `INSERT INTO \`${table}\` (\`key\`, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta)
         SELECT CONCAT('s', seq), '{}', 'many', ?, ?, ? + 60000, ? + 600000, '{}' FROM seq_1_to_5000`,
      [now, now, now, now],
    );
    const revoked = await a.destroyByUser('many', { except: 'keep' });
    expect(revoked).toHaveLength(5000);
    expect(new Set(revoked)).toEqual(new Set(Array.from({ length: 5000 }, (_, i) => `s${i + 1}`)));
    // Gone from the moment it resolves, through another store on its own pool.
    const other = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    try {
      const b = mysqlStore({ pool: other, table, sweepInterval: 0 });
      expect(await b.get('s1', now)).toBeNull();
      expect((await b.listByUser('many', now)).map((x) => x.key)).toEqual(['keep']);
      expect(await b.destroyByUser('many', { except: 'keep' })).toEqual([]);
    } finally {
      await other.end();
    }
    const left = async () =>
      (
        (
          await admin.query(
            `SELECT (SELECT COUNT(*) FROM \`${table}\`) AS rows_left, (SELECT COUNT(*) FROM \`${table}_revoked\`) AS marks`,
          )
        )[0] as { rows_left: number; marks: number }[]
      )[0]!;
    const deadline = Date.now() + 10_000;
    while (Number((await left()).marks) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await left()).toEqual({ rows_left: 2, marks: 0 });
    await a.close();
  });

  it('a revoked key written again (a create, an insert over it) is a live session again', async () => {
    const table = tableName('rewrite');
    const a = mysqlStore({ pool, table, sweepInterval: 0 });
    const now = Date.now();
    const r = { ...record(now, { v: 1 }), userId: 'rewrite-user' };
    await a.create('k-create', r);
    await a.create('k-insert', r);
    await a.ping();
    // Marked, the rows not yet deleted.
    await admin.query(
      `INSERT INTO \`${table}_revoked\` (\`key\`) VALUES ('k-create'), ('k-insert')`,
    );
    expect(await a.get('k-create', now)).toBeNull();
    await a.create('k-create', { ...r, data: { v: 2 } });
    expect(await a.insert!('k-insert', { ...r, data: { v: 3 } }, now)).toBe(true);
    expect((await a.get('k-create', now))?.data).toEqual({ v: 2 });
    expect((await a.get('k-insert', now))?.data).toEqual({ v: 3 });
    expect((await a.listByUser('rewrite-user', now)).length).toBe(2);
    await a.purgeExpired(now); // reaps: nothing of theirs is marked any more
    expect((await a.get('k-create', now))?.data).toEqual({ v: 2 });
    expect((await a.get('k-insert', now))?.data).toEqual({ v: 3 });
  });

  it('a v1 table is upgraded on open, by two stores at once; without createTable it is a config error with the fix', async () => {
    const table = tableName('v1');
    await admin.query(`CREATE TABLE \`${table}\` (
      \`key\` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
      data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (JSON_VALID(data)),
      user_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
      created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
      absolute_expires_at BIGINT NOT NULL,
      meta LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      INDEX \`${table}_expires_at\` (expires_at),
      INDEX \`${table}_user_id\` (user_id(191))
    ) ENGINE=InnoDB COMMENT='tessera-session schema v1'`);
    const now = Date.now();
    const long = `${'u'.repeat(300)}é`;
    await admin.query(
      `INSERT INTO \`${table}\` VALUES ('old-1', '{"a":1}', ?, ?, ?, ?, ?, '{}'), ('old-2', '{}', ?, ?, ?, ?, ?, '{}')`,
      [
        long,
        now,
        now,
        now + 60_000,
        now + 600_000,
        `${long}x`,
        now,
        now,
        now + 60_000,
        now + 600_000,
      ],
    );
    const manual = mysqlStore({ pool, table, createTable: false, sweepInterval: 0 });
    await expect(manual.get('old-1', now)).rejects.toMatchObject({
      code: 'ERR_SESSION_CONFIG',
      message: expect.stringContaining(`ALTER TABLE \`${table}\` ADD COLUMN user_hash`),
    });
    const [a, b] = [
      mysqlStore({ pool, table, sweepInterval: 0 }),
      mysqlStore({ pool, table, sweepInterval: 0 }),
    ];
    const [x, y] = await Promise.all([a.get('old-1', now), b.get('old-2', now)]);
    expect(x?.data).toEqual({ a: 1 });
    expect(y?.userId).toBe(`${long}x`);
    expect((await a.listByUser(long, now)).map((s) => s.key)).toEqual(['old-1']);
    expect(await b.destroyByUser(`${long}x`)).toEqual(['old-2']);
    expect(await indexesOf(table)).toEqual(['PRIMARY', `${table}_expires_at`, `${table}_user`]);
    expect(await manual.get('old-1', now)).not.toBeNull(); // upgraded: the manual store opens now
  });

  it('purgeExpired deletes expired rows only, in batches (10k rows, injected clock)', async () => {
    const table = tableName('purge');
    const store = mysqlStore({ pool, table, sweepInterval: 0, purgeBatch: 700 });
    const now = Date.now();
    await store.ping();
    await admin.query(
      `INSERT INTO \`${table}\` (\`key\`, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta)
         SELECT CONCAT('k', seq), '{}', NULL, ?, ?,
         IF(seq % 2 = 0, ? + 1000, ? + 3600000), ? + 7200000, '{}' FROM seq_1_to_10000`,
      [now, now, now, now, now],
    );
    expect(await store.purgeExpired(now + 2000)).toBe(5000);
    const [left] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
    expect(Number((left as { n: number }[])[0]!.n)).toBe(5000);
  });

  it('a dropped table is recreated on the next call', async () => {
    const table = tableName('drop');
    const store = mysqlStore({ pool, table, sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { a: 1 }));
    await admin.query(`DROP TABLE \`${table}\``);
    expect(await store.get('k', now)).toBeNull();
    await store.create('k', record(now, { a: 2 }));
    expect((await store.get('k', now))?.data).toEqual({ a: 2 });
  });

  it('without createTable a missing table is ERR_SESSION_STORE_UNAVAILABLE with the cause', async () => {
    const store = mysqlStore({
      pool,
      table: tableName('never'),
      createTable: false,
      sweepInterval: 0,
    });
    await expect(store.get('k', Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      cause: expect.objectContaining({ code: 'ER_NO_SUCH_TABLE' }),
    });
  });

  it('mysqlSchema is the DDL the store applies', async () => {
    const table = tableName('manual');
    // Two statements, as a migration tool would run them.
    for (const sql of mysqlSchema(table).split(/;\n/)) if (sql.trim()) await admin.query(sql);
    const store = mysqlStore({ pool, table, createTable: false, sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { a: 1 }));
    expect((await store.get('k', now))?.data).toEqual({ a: 1 });
  });

  it('a write blocked past statementTimeout is aborted by the server and never lands later', async () => {
    const table = tableName('timeout');
    const store = mysqlStore({ pool, table, sweepInterval: 0, statementTimeout: 300 });
    const now = Date.now();
    await store.create('locked', record(now, { v: 'before' }));
    // Another connection holds the row lock (as a long transaction would).
    const holder = await admin.getConnection();
    await holder.query('BEGIN');
    await holder.query(`SELECT * FROM \`${table}\` WHERE \`key\` = 'locked' FOR UPDATE`);
    await expect(store.update('locked', { set: { v: 'late' } }, now)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      cause: expect.objectContaining({ errno: 1969 }), // ER_STATEMENT_TIMEOUT: the server gave up
    });
    await holder.query('COMMIT');
    holder.release();
    // The lock is free now: had the write been left queued on the server, it would land here.
    await new Promise((r) => setTimeout(r, 500));
    expect((await store.get('locked', now))?.data).toEqual({ v: 'before' });
    expect(await store.update('locked', { set: { v: 'after' } }, now)).not.toBeNull();
  });

  it('a record over the server’s max_allowed_packet fails, writes nothing, and the pool goes on', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const [rows] = await admin.query('SELECT @@max_allowed_packet AS m');
    const max = Number((rows as { m: number }[])[0]!.m);
    const now = Date.now();
    await expect(
      store.create('huge', record(now, { x: 'x'.repeat(max + 1) })),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_STORE_UNAVAILABLE' });
    expect(await store.get('huge', now)).toBeNull();
    await store.create('small', record(now, { x: 1 }));
    expect((await store.get('small', now))?.data).toEqual({ x: 1 });
  });

  it('user ids longer than the index prefix are kept and listed exactly', async () => {
    const store = mysqlStore({ pool, table: conformanceTable, sweepInterval: 0 });
    const now = Date.now();
    const long = 'u'.repeat(300);
    await store.create('long-a', { ...record(now), userId: `${long}a` });
    await store.create('long-b', { ...record(now), userId: `${long}b` });
    expect((await store.listByUser(`${long}a`, now)).map((s) => s.key)).toEqual(['long-a']);
    expect(await store.destroyByUser(`${long}b`)).toEqual(['long-b']);
    expect(await store.get('long-a', now)).not.toBeNull();
  });

  it('an unreachable server fails within the connection timeout with the typed error', async () => {
    const store = mysqlStore({
      uri: 'mysql://root@127.0.0.1:1/test',
      poolOptions: { connectTimeout: 1000 },
      sweepInterval: 0,
    });
    await expect(store.get('k', Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
    });
    await store.close();
  });

  it('the network to MariaDB drops mid-test: typed errors, then recovery without a restart', async () => {
    const url = new URL(MYSQL_URL);
    const proxy = await tcpProxy(Number(url.port || 3306));
    url.port = String(proxy.port);
    const table = tableName('outage');
    const store: SessionStore & { close(): Promise<void> } = mysqlStore({
      uri: url.href,
      table,
      poolOptions: { connectTimeout: 1000 },
      statementTimeout: 500,
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
    expect(() => mysqlStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
    expect(() => mysqlStore({ pool, table: 'sessions; DROP' })).toThrow(/SQL identifier/);
    expect(() => mysqlStore({ pool, statementTimeout: 0 })).toThrow(/statementTimeout/);
  });
});
