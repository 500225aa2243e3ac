/**
 * Several servers: two app processes on different ports share one store (a SQLite file,
 * PostgreSQL, MariaDB, Redis); a visitor's requests alternate between them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startAppProcess } from '../support/app-process.ts';

type AppProcess = Awaited<ReturnType<typeof startAppProcess>>;

import { Browser } from '../support/http.ts';
import { DATABASE_URL, MYSQL_URL, REDIS_URL, serviceUnavailable } from '../support/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-servers-'));
const schema = `tessera_servers_${randomBytes(4).toString('hex')}`;
const prefix = `tessera-servers-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

const pgDown = await serviceUnavailable('PostgreSQL', async () => {
  const c = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  await c.end();
});
const redisDown = await serviceUnavailable('Redis', async () => {
  const c = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  await c.connect();
  c.disconnect();
});

const mysqlTable = `tessera_servers_${randomBytes(4).toString('hex')}`;
const mysqlDown = await serviceUnavailable('MariaDB/MySQL', async () => {
  const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
  await c.end();
});

const cases = [
  { name: 'a shared SQLite file', spec: `sqlite:${join(dir, 'shared.db')}`, down: null },
  { name: 'PostgreSQL', spec: `postgres:${schema}`, down: pgDown },
  { name: 'Redis', spec: `redis:${prefix}`, down: redisDown },
  { name: 'MariaDB', spec: `mysql:${mysqlTable}`, down: mysqlDown },
  {
    name: 'PostgreSQL behind a Redis cache',
    spec: `cached:${schema}:${prefix}cache:`,
    down: pgDown ?? redisDown,
  },
];

afterAll(async () => {
  if (!pgDown) {
    const c = new pg.Client({ connectionString: DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  if (!mysqlDown) {
    const c = await mysql.createConnection({ uri: MYSQL_URL });
    await c.query(`DROP TABLE IF EXISTS \`${mysqlTable}\`, \`${mysqlTable}_revoked\``);
    await c.end();
  }
  if (!redisDown) {
    const c = new Redis(REDIS_URL);
    const keys = await c.keys(`${prefix}*`);
    if (keys.length) await c.del(...keys);
    c.disconnect();
  }
});

for (const { name, spec, down } of cases) {
  describe.skipIf(down !== null)(`two app processes sharing ${name}`, () => {
    it('the session follows the visitor, a logout on one is effective on the other, concurrent writes through both are all kept', async () => {
      // If one fails to start, stop the other: a live child would keep the test run from ending.
      const started = await Promise.allSettled([startAppProcess(spec), startAppProcess(spec)]);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) {
        for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
        throw failed.reason;
      }
      const [a, b] = started.map((s) => (s as PromiseFulfilledResult<AppProcess>).value) as [
        AppProcess,
        AppProcess,
      ];
      try {
        const visitor = new Browser(a.url);
        // One cookie jar, two servers: as behind a round-robin load balancer.
        const via = (server: { url: string }, path: string, method = 'GET') => {
          const other = new Browser(server.url);
          for (const [k, v] of visitor.jar) other.jar.set(k, v);
          return other.request(path, { method }).then((r) => {
            for (const [k] of visitor.jar) if (!other.jar.has(k)) visitor.jar.delete(k);
            for (const [k, v] of other.jar) visitor.jar.set(k, v);
            return r;
          });
        };
        await via(a, '/set?key=cart&value=[]', 'POST');
        expect((await via(b, '/get?key=cart')).json()).toMatchObject({ out: [], isNew: false });

        // Concurrent writes of different keys and pushes through both processes.
        await Promise.all([
          ...Array.from({ length: 10 }, (_, i) =>
            via(i % 2 ? a : b, `/set?key=k${i}&value=${i}`, 'POST'),
          ),
          ...Array.from({ length: 10 }, (_, i) =>
            via(i % 2 ? b : a, `/push?key=cart&value="p${i}"`, 'POST'),
          ),
        ]);
        const state = (await via(a, '/get?key=cart')).json<{ out: string[]; keys: string[] }>();
        expect(state.out.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`).sort());
        for (let i = 0; i < 10; i++) expect(state.keys).toContain(`k${i}`);

        // Login on A, seen on B; logout on B, dead on A at once.
        await via(a, '/login?user=multi', 'POST');
        expect((await via(b, '/get?key=k1')).json()).toMatchObject({ userId: 'multi', out: 1 });
        const loggedIn = visitor.jar.get('sid')!;
        await via(b, '/logout', 'POST');
        const replay = new Browser(a.url);
        replay.jar.set('sid', loggedIn);
        expect((await replay.get('/get?key=k1')).json()).toMatchObject({
          userId: null,
          isNew: true,
        });
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    }, 60_000);
  });
}
