/**
 * Store-level cost of cachedStore (PostgreSQL behind Redis) against plain PostgreSQL: the app
 * process's CPU per "request" (a get, then an update of the same key), sequential, rounds
 * interleaved, the two ways cachedStore can keep its entries (redisStore's cacheEntries, and
 * session records) in one run. Not part of `npm test`.
 *
 *   node scripts/cached-timings.ts            # N=5000 requests per round, 3 rounds
 *   N=20000 ROUNDS=5 node scripts/cached-timings.ts
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { SessionRecord, SessionStore } from '../src/store.ts';
import { cachedStore } from '../src/stores/cached.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { redisStore } from '../src/stores/redis.ts';

const N = Number(process.env['N'] ?? 5000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const schema = `tessera_cached_timings_${randomBytes(3).toString('hex')}`;
const prefix = `tessera-cached-timings-${randomBytes(3).toString('hex')}:`;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
const client = new Redis(REDIS_URL, { enableAutoPipelining: true });

const primary = () => postgresStore({ pool, schema, sweepInterval: 0 });
const withoutEntries = (store: ReturnType<typeof redisStore>): SessionStore => {
  const { cacheEntries: _, ...records } = store;
  return records;
};
const rows: Record<string, () => SessionStore> = {
  'plain PostgreSQL': primary,
  'cachedStore, entries (cacheEntries)': () =>
    cachedStore({ primary: primary(), cache: redisStore({ client, prefix }), log: () => {} }),
  'cachedStore, session records': () =>
    cachedStore({
      primary: primary(),
      cache: withoutEntries(redisStore({ client, prefix })),
      log: () => {},
    }),
};

const now = Date.now();
const record: SessionRecord = {
  data: { user: { id: 'u-1042', name: 'Ada Lovelace', roles: ['reader', 'editor'] }, n: 0 },
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + 3_600_000,
  absoluteExpiresAt: now + 36_000_000,
  meta: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', ip: '203.0.113.7' },
};

async function round(make: () => SessionStore): Promise<{ cpu: number; wall: number }> {
  const store = make();
  const keys = Array.from({ length: 100 }, () => randomBytes(32).toString('base64url'));
  for (const k of keys) await store.create(k, record);
  for (const k of keys) await store.get(k, now); // warm: every key filled
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const k = keys[i % keys.length]!;
    await store.get(k, now);
    await store.update(k, { ops: [{ op: 'increment', key: 'n', by: 1 }] }, now);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / N, wall: (wall * 1000) / N };
}

const results = new Map<string, { cpu: number[]; wall: number[] }>();
for (let r = 0; r < ROUNDS; r++) {
  const names = Object.keys(rows);
  const order = names.map((_, i) => names[(i + r) % names.length]!);
  for (const name of order) {
    const { cpu, wall } = await round(rows[name]!);
    const got = results.get(name) ?? { cpu: [], wall: [] };
    got.cpu.push(cpu);
    got.wall.push(wall);
    results.set(name, got);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${N} requests (get + update) per round, ${ROUNDS} rounds, medians:`);
console.log('| store | app CPU µs per request | wall µs per request |');
console.log('|---|--:|--:|');
for (const [name, { cpu, wall }] of results)
  console.log(`| ${name} | ${median(cpu).toFixed(0)} | ${median(wall).toFixed(0)} |`);

await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
const left = await client.keys(`${prefix}*`);
if (left.length) await client.del(...left);
await pool.end();
client.disconnect();
