/**
 * Issue #15: what a login at `maxSessionsPerUser` costs a store when the user already has N live
 * sessions (default 10 000), on every server store. Prints timings; asserts nothing about them
 * (they depend on the machine). For each store:
 *
 * - `cap`: the login's store work: `regenerate` of an anonymous session to the user, then the
 *   surplus deleted by `destroyUserSurplus` (keep the newest max − 1 and the new session);
 * - `cap (list)`: the same surplus found the previous way (`listByUser`, sort, `destroyByUser`
 *   with the keys), for comparison;
 * - `revoke`: `destroyByUser` of the user's N sessions ("sign out everywhere").
 *
 * Run: `node scripts/user-cap-timings.ts` (N=… MAX=… ONLY=memory,redis… to narrow). Needs the
 * services of the test suite (PostgreSQL, MariaDB, Redis, Redis Cluster on 7001–7006).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SessionRecord, SessionStore } from '../src/store.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { mysqlStore } from '../src/stores/mysql.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { redisStore } from '../src/stores/redis.ts';
import { sqliteStore } from '../src/stores/sqlite.ts';

const N = Number(process.env['N'] ?? 10_000);
const MAX = Number(process.env['MAX'] ?? 5);
const only = (process.env['ONLY'] ?? '').split(',').filter(Boolean);
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

const key = () => createHash('sha256').update(randomBytes(32)).digest('base64url');
const tag = randomBytes(4).toString('hex');

/** The session shape: a user id, ~130 bytes of data, a user agent and an IP. */
function record(now: number, userId: string | null, lastSeenAt: number): SessionRecord {
  return {
    data: {
      cart: ['sku-1842', 'sku-20417'],
      lang: 'en-GB',
      $csrf: randomBytes(16).toString('base64url'),
      theme: 'dark',
      seen: 12,
    },
    userId,
    createdAt: now - 60_000,
    lastSeenAt,
    expiresAt: now + 3_600_000,
    absoluteExpiresAt: now + 86_400_000,
    meta: {
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      ip: '203.0.113.7',
    },
  };
}

async function fill(store: SessionStore, user: string, now: number): Promise<void> {
  const batch = 200;
  for (let i = 0; i < N; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, N - i) }, (_, j) =>
        store.create(key(), record(now, user, now - 60_000 + i + j)),
      ),
    );
  }
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

async function measure(name: string, store: SessionStore): Promise<void> {
  const now = Date.now();
  const rows: string[] = [];
  // 1. Login at the cap through destroyUserSurplus.
  {
    const user = `cap-${tag}-${name}`;
    await fill(store, user, now);
    const anon = key();
    await store.create(anon, record(now, null, now));
    const fresh = key();
    const start = process.hrtime.bigint();
    await store.regenerate!(anon, fresh, { delta: {}, userId: user }, now);
    const regenerated = ms(start);
    const deleted = await store.destroyUserSurplus!(user, { keep: MAX - 1, except: fresh }, now);
    const took = ms(start);
    const left = (await store.listByUser(user, now)).length;
    rows.push(
      `cap ${took.toFixed(1)} ms (regenerate ${regenerated.toFixed(1)}; deleted ${deleted.length}, left ${left})`,
    );
    await store.destroyByUser(user);
  }
  // 2. The same surplus found by listing every record (the path before destroyUserSurplus).
  {
    const user = `list-${tag}-${name}`;
    await fill(store, user, now);
    const start = process.hrtime.bigint();
    const live = await store.listByUser(user, now);
    const oldest = live
      .sort((a, b) => a.record.lastSeenAt - b.record.lastSeenAt)
      .slice(0, live.length - MAX);
    await store.destroyByUser(user, { keys: oldest.map((s) => s.key) });
    rows.push(`cap (list) ${ms(start).toFixed(1)} ms`);
    await store.destroyByUser(user);
  }
  // 3. Sign out everywhere.
  {
    const user = `revoke-${tag}-${name}`;
    await fill(store, user, now);
    const start = process.hrtime.bigint();
    const deleted = await store.destroyByUser(user);
    rows.push(`revoke ${ms(start).toFixed(1)} ms (deleted ${deleted.length})`);
  }
  console.log(`${name.padEnd(14)} N=${N} max=${MAX}: ${rows.join(' | ')}`);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-cap-'));
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const mysqlPool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
const redis = new Redis(REDIS_URL);
const cluster = new Cluster(
  [7001, 7002, 7003, 7004, 7005, 7006].map((port) => ({ host: '127.0.0.1', port })),
);
const schema = `tessera_cap_${tag}`;
const table = `tessera_cap_${tag}`;
const stores: [string, () => SessionStore][] = [
  ['memory', () => memoryStore({ maxSessions: 4 * N, sweepInterval: 0 })],
  ['sqlite', () => sqliteStore({ path: join(dir, 'cap.db'), sweepInterval: 0 })],
  ['postgres', () => postgresStore({ pool, schema, sweepInterval: 0 })],
  ['mysql', () => mysqlStore({ pool: mysqlPool, table, sweepInterval: 0 })],
  ['redis', () => redisStore({ client: redis, prefix: `cap-${tag}:`, commandTimeout: 30_000 })],
  [
    'redis-cluster',
    () => redisStore({ client: cluster, prefix: `cap-${tag}:`, commandTimeout: 30_000 }),
  ],
];
try {
  for (const [name, make] of stores) {
    if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
    const store = make();
    try {
      await measure(name, store);
    } finally {
      await store.close?.();
    }
  }
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await mysqlPool.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_revoked\``).catch(() => {});
  await pool.end();
  await mysqlPool.end();
  redis.disconnect();
  cluster.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
