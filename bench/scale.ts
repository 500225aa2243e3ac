/**
 * `npm run bench:scale` (issue 15.3): every store at size. Per store, N sessions (a user id, ~130
 * bytes of data, a user agent and an IP; 5 sessions per user) are written through the store's
 * `create`, as the manager writes them, and then measured:
 *
 * - the create rate (64 creates in flight) and the bytes each session takes in the store
 *   (PostgreSQL: `pg_total_relation_size`; MySQL: data + index length after `ANALYZE TABLE`;
 *   SQLite: used pages of the file; Redis and Cluster: `MEMORY USAGE` summed over the run's keys;
 *   memory store: the heap delta after GC);
 * - the app's RSS and heap before and after;
 * - p50/p99 of `get`, `update`, `touch` and `listByUser` at 1 000 sessions and at N;
 * - one user with 10 000 sessions: `listSessions`, a login at the cap (`maxSessionsPerUser`
 *   10 000, through `createSessions`), `revokeUserSessions`;
 * - `purgeExpired` of the half that has expired, while a second process reads the store at a
 *   light rate (its longest request and event-loop delay) and this one's event-loop delay;
 *   beside them a control process that shares nothing with the store and times only its own
 *   event loop, so a stall of the machine's is told from one of the store's.
 *
 * The peer that has the operation is measured beside it: connect-redis's bytes per session for
 * the same data. Everything written is removed at the end (own table names, key prefix, a temp
 * folder for SQLite). Not part of `npm test`.
 *
 * Knobs (environment):
 * - `SCALE_N` sessions per store (default 1 000 000; `SCALE_N=20000` for a quick run)
 * - `SCALE_STORES` comma-separated subset of `memory,sqlite,postgres,mysql,redis,cluster`
 * - `SCALE_USER_SESSIONS` sessions of the one heavy user (default 10 000)
 * - `SCALE_CREATE_SECONDS` longest create phase per store (default 600); past it the store is
 *   measured at the size reached, which the report says
 * - `SCALE_OUT` folder for `scale.md` / `scale.json` (default `bench/results`)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SessionRecord, SessionStore } from '../src/index.ts';
import { DATABASE_URL, MYSQL_URL, REDIS_URL, SECRET } from './contenders.ts';

type Kind = 'memory' | 'sqlite' | 'postgres' | 'mysql' | 'redis' | 'cluster';
const KINDS: readonly Kind[] = ['memory', 'sqlite', 'postgres', 'mysql', 'redis', 'cluster'];
const CLUSTER_PORTS = [7001, 7002, 7003, 7004, 7005, 7006];
const TABLE = 'tessera_scale_sessions';
const PREFIX = 'tessera-scale:';
const PEER_PREFIX = 'tessera-scale-cr:';
const HOUR = 3_600_000;
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const DATA = {
  user: { id: 'u-1042', name: 'Ada Lovelace', roles: ['reader', 'editor'] },
  cart: ['sku-1042', 'sku-77'],
  lang: 'en',
  theme: 'dark',
};
const HEAVY = 'heavy-user';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

/** The store key of session `i` of a run: a SHA-256 in base64url, like a token's hash. */
function keyOf(run: string, i: number): string {
  return createHash('sha256').update(`${run}:${i}`).digest('base64url');
}

/** Session `i`: even ones expire at `t0 + 1 h`, odd ones at `t0 + 2 h`; 5 per user. */
function recordOf(i: number, t0: number, userId = `u-${Math.floor(i / 5)}`): SessionRecord {
  return {
    data: { ...DATA },
    userId,
    createdAt: t0,
    lastSeenAt: t0,
    expiresAt: t0 + (i % 2 === 0 ? HOUR : 2 * HOUR),
    absoluteExpiresAt: t0 + 7 * 24 * HOUR,
    meta: { userAgent: UA, ip: `203.0.113.${i % 250}` },
  };
}

// ---------- stores ----------

interface Opened {
  readonly store: SessionStore;
  /** Bytes the store holds for this run now (null where it cannot be told). */
  bytes(): Promise<number | null>;
  /** How the bytes are counted (for the report). */
  readonly bytesHow: string;
  close(): Promise<void>;
  /** Remove everything this run wrote. */
  cleanup(): Promise<void>;
}

interface Where {
  readonly sqlitePath?: string;
}

interface KeyScan {
  scan(cursor: string): Promise<[string, string[]]>;
  memoryUsage(key: string): Promise<number>;
  unlink(keys: string[]): Promise<unknown>;
}

async function scanAll(scanner: KeyScan, each: (keys: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await scanner.scan(cursor);
    if (keys.length) await each(keys);
    cursor = next;
  } while (cursor !== '0');
}

async function usage(scanners: readonly KeyScan[]): Promise<number> {
  let total = 0;
  for (const s of scanners) {
    await scanAll(s, async (keys) => {
      const sizes = await Promise.all(keys.map((k) => s.memoryUsage(k)));
      for (const n of sizes) total += n ?? 0;
    });
  }
  return total;
}

function ioredisScanner(client: import('ioredis').Redis, prefix: string): KeyScan {
  return {
    scan: (cursor) => client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000),
    memoryUsage: async (key) => Number(await client.memory('USAGE', key)),
    // One key per command: on a Cluster node the keys of one batch may sit in different slots.
    unlink: (keys) => Promise.all(keys.map((k) => client.unlink(k))),
  };
}

async function openStore(kind: Kind, where: Where, probe = false): Promise<Opened> {
  switch (kind) {
    case 'memory': {
      const { memoryStore } = await import('../src/stores/memory.ts');
      const store = memoryStore({ maxSessions: 50_000_000, sweepInterval: 0 });
      return {
        store,
        bytes: async () => null,
        bytesHow: 'heap delta after GC',
        close: async () => undefined,
        cleanup: async () => undefined,
      };
    }
    case 'sqlite': {
      const { DatabaseSync } = await import('node:sqlite');
      const { sqliteStore } = await import('../src/stores/sqlite.ts');
      const path = where.sqlitePath!;
      const database = new DatabaseSync(path);
      const store = sqliteStore({ database, table: TABLE, sweepInterval: 0 });
      return {
        store,
        bytes: async () => {
          database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
          const pragma = (name: string) =>
            Number(Object.values(database.prepare(`PRAGMA ${name}`).get() ?? {})[0]);
          return (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
        },
        bytesHow: 'used pages of the file',
        close: async () => {
          await store.close?.();
          if (database.isOpen) database.close();
        },
        cleanup: async () => undefined, // the temp folder goes at the end
      };
    }
    case 'postgres': {
      const { default: pg } = await import('pg');
      const { postgresStore } = await import('../src/stores/postgres.ts');
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
      if (!probe) await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
      const store = postgresStore({ pool, table: TABLE, sweepInterval: 0 });
      await store.get('warm-up', Date.now()); // creates the table
      return {
        store,
        bytes: async () =>
          Number((await pool.query(`SELECT pg_total_relation_size('${TABLE}') AS n`)).rows[0].n),
        bytesHow: 'pg_total_relation_size (table, TOAST, indexes)',
        close: async () => {
          await store.close?.();
          await pool.end().catch(() => undefined);
        },
        cleanup: async () => {
          const p = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
          await p.query(`DROP TABLE IF EXISTS ${TABLE}`).finally(() => p.end());
        },
      };
    }
    case 'mysql': {
      const { default: mysql } = await import('mysql2/promise');
      const { mysqlStore } = await import('../src/stores/mysql.ts');
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 20 });
      if (!probe) await pool.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_revoked`);
      const store = mysqlStore({ pool, table: TABLE, sweepInterval: 0 });
      await store.get('warm-up', Date.now());
      return {
        store,
        bytes: async () => {
          await pool.query(`ANALYZE TABLE ${TABLE}`);
          const [rows] = (await pool.query(
            'SELECT data_length + index_length AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
            [TABLE],
          )) as unknown as [{ n: number }[]];
          return Number(rows[0]?.n ?? 0);
        },
        bytesHow: 'data_length + index_length after ANALYZE TABLE (InnoDB estimate)',
        close: async () => {
          await store.close?.();
          await pool.end().catch(() => undefined);
        },
        cleanup: async () => {
          const p = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
          await p.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_revoked`).finally(() => p.end());
        },
      };
    }
    case 'redis': {
      const { Redis } = await import('ioredis');
      const { redisStore } = await import('../src/stores/redis.ts');
      const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
      const scanner = ioredisScanner(client, PREFIX);
      if (!probe) await scanAll(scanner, async (keys) => void (await scanner.unlink(keys)));
      const store = redisStore({ client, prefix: PREFIX });
      return {
        store,
        bytes: () => usage([scanner]),
        bytesHow: 'MEMORY USAGE summed over the run’s keys (sessions and user index)',
        close: async () => void (await client.quit().catch(() => undefined)),
        cleanup: async () => {
          const c = new Redis(REDIS_URL);
          const s = ioredisScanner(c, PREFIX);
          await scanAll(s, async (keys) => void (await s.unlink(keys))).finally(() => c.quit());
        },
      };
    }
    case 'cluster': {
      const { Cluster } = await import('ioredis');
      const { redisStore } = await import('../src/stores/redis.ts');
      const client = new Cluster(
        CLUSTER_PORTS.map((port) => ({ host: '127.0.0.1', port })),
        { enableAutoPipelining: true },
      );
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', reject);
      });
      const masters = () => client.nodes('master').map((n) => ioredisScanner(n, PREFIX));
      if (!probe) {
        for (const s of masters()) await scanAll(s, async (keys) => void (await s.unlink(keys)));
      }
      const store = redisStore({ client, prefix: PREFIX });
      return {
        store,
        bytes: () => usage(masters()),
        bytesHow: 'MEMORY USAGE summed over the run’s keys on the masters (one copy)',
        close: async () => void (await client.quit().catch(() => undefined)),
        cleanup: async () => {
          for (const s of masters()) await scanAll(s, async (keys) => void (await s.unlink(keys)));
        },
      };
    }
  }
}

// ---------- measuring ----------

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

async function timed(count: number, op: (j: number) => Promise<unknown>): Promise<Latency> {
  const ms: number[] = [];
  for (let j = 0; j < count; j++) {
    const t = performance.now();
    await op(j);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function opsAt(store: SessionStore, run: string, size: number, t0: number) {
  const pick = () => Math.floor(Math.random() * size);
  const now = () => Date.now();
  return {
    get: await timed(1000, () => store.get(keyOf(run, pick()), now())),
    update: await timed(1000, (j) =>
      store.update(keyOf(run, pick() | 1), { set: { n: j }, lastSeenAt: now() }, now()),
    ),
    touch: await timed(1000, () =>
      store.touch(keyOf(run, pick() | 1), t0 + 2 * HOUR, now(), now()),
    ),
    listByUser: await timed(300, () => store.listByUser(`u-${Math.floor(pick() / 5)}`, now())),
  };
}

/** Create sessions `from`..`to` (exclusive), 64 in flight; stops early past `deadline`. */
async function createRange(
  store: SessionStore,
  run: string,
  from: number,
  to: number,
  t0: number,
  deadline: number,
  userOf?: (i: number) => string,
): Promise<number> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      if ((next & 1023) === 0 && Date.now() > deadline) return;
      const i = next++;
      await store.create(keyOf(run, i), recordOf(i, t0, userOf?.(i)));
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return Math.min(next, to);
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function memory() {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

interface ProbeResult {
  readonly requests: number;
  /** Longest request in the second before the purge: the machine's own noise. */
  readonly maxBeforeMs: number;
  /** Longest request from the purge's start to 300 ms after its end. */
  readonly maxMs: number;
  readonly loopMaxMs: number;
  readonly errors: number;
}

/** A second process reading live sessions of the store at a light rate (one every 5 ms). */
function startProbe(kind: Kind, where: Where, run: string, n: number) {
  return startChild<ProbeResult>('--probe', JSON.stringify({ kind, where, run, n }));
}

/** What the control process saw: its own event loop, the second before the purge and during. */
interface ControlResult {
  readonly loopMaxBeforeMs: number;
  readonly loopMaxMs: number;
}

/**
 * A third process that shares nothing with the purge (no store, no file, no connection) and
 * only times its own event loop: what the machine itself does to a process meanwhile. A stall
 * the control sees as well is the machine's (two shared cores), not a lock the purge holds.
 */
function startControl() {
  return startChild<ControlResult>('--control', '{}');
}

async function startChild<Result>(mode: string, arg: string) {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), mode, arg], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error('the probe process exited before it was ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    mark: () => void child.stdin!.write('mark\n'),
    async stop(): Promise<Result> {
      child.stdin!.end('stop\n');
      await once(child, 'exit');
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return JSON.parse(line!) as Result;
    },
  };
}

/** In-process light load (the memory store has no second process to share it). */
function startInProcessLoad(store: SessionStore, run: string, n: number) {
  let requests = 0;
  let maxMs = 0;
  let maxBeforeMs = 0;
  let errors = 0;
  let stopped = false;
  const tick = async () => {
    while (!stopped) {
      const t = performance.now();
      try {
        await store.get(keyOf(run, Math.floor(Math.random() * n) | 1), Date.now());
      } catch {
        errors++;
      }
      requests++;
      await new Promise((r) => setTimeout(r, 5));
      // The wait is part of the latency a request would see: a blocked loop delays the timer.
      maxMs = Math.max(maxMs, performance.now() - t - 5);
    }
  };
  const running = tick();
  return {
    mark: () => {
      maxBeforeMs = maxMs;
      maxMs = 0;
    },
    async stop(): Promise<ProbeResult> {
      stopped = true;
      await running;
      return { requests, maxBeforeMs, maxMs, loopMaxMs: Number.NaN, errors };
    },
  };
}

/** A child's side of startChild: `mark` (the purge starts) and `stop` on stdin, then ready. */
function listenToParent(mark: () => void, stop: () => void): void {
  process.stdin.on('data', (chunk) => {
    const text = String(chunk);
    if (text.includes('mark')) mark();
    if (text.includes('stop')) stop();
  });
  process.stdout.write('ready\n');
}

async function probeMain(arg: string): Promise<void> {
  const { kind, where, run, n } = JSON.parse(arg) as {
    kind: Kind;
    where: Where;
    run: string;
    n: number;
  };
  const opened = await openStore(kind, where, true);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let requests = 0;
  let maxMs = 0;
  let maxBeforeMs = 0;
  let errors = 0;
  let stopped = false;
  listenToParent(
    () => {
      maxBeforeMs = maxMs;
      maxMs = 0;
      loop.reset();
    },
    () => {
      stopped = true;
    },
  );
  while (!stopped) {
    const t = performance.now();
    try {
      await opened.store.get(keyOf(run, Math.floor(Math.random() * n) | 1), Date.now());
    } catch {
      errors++;
    }
    maxMs = Math.max(maxMs, performance.now() - t);
    requests++;
    await new Promise((r) => setTimeout(r, 5));
  }
  loop.disable();
  await opened.close();
  process.stdout.write(
    `${JSON.stringify({ requests, maxBeforeMs, maxMs, loopMaxMs: loop.max / 1e6, errors })}\n`,
  );
  process.exit(0);
}

async function controlMain(): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let loopMaxBeforeMs = 0;
  let stopped = false;
  listenToParent(
    () => {
      loopMaxBeforeMs = loop.max / 1e6;
      loop.reset();
    },
    () => {
      stopped = true;
    },
  );
  while (!stopped) await new Promise((r) => setTimeout(r, 50));
  loop.disable();
  process.stdout.write(`${JSON.stringify({ loopMaxBeforeMs, loopMaxMs: loop.max / 1e6 })}\n`);
  process.exit(0);
}

// ---------- one store ----------

interface StoreResult {
  readonly kind: Kind;
  readonly n: number;
  readonly requested: number;
  readonly createPerSecond: number;
  readonly bytesPerSession: number | null;
  readonly bytesHow: string;
  readonly rss: readonly [number, number];
  readonly heap: readonly [number, number];
  readonly at1000: Awaited<ReturnType<typeof opsAt>>;
  readonly atN: Awaited<ReturnType<typeof opsAt>>;
  readonly user: {
    readonly sessions: number;
    readonly listMs: number;
    readonly listed: number;
    readonly loginAtCapMs: number;
    readonly afterLogin: number;
    readonly revokeMs: number;
    readonly revoked: number;
  };
  readonly purge: {
    readonly ms: number;
    readonly deleted: number;
    readonly loopMaxMs: number;
    readonly probe: ProbeResult;
    readonly control: ControlResult;
  } | null;
}

async function measureStore(kind: Kind, n: number, dir: string): Promise<StoreResult> {
  const log = (s: string) => console.log(`[${kind}] ${s}`);
  const where: Where = kind === 'sqlite' ? { sqlitePath: join(dir, 'scale.db') } : {};
  const before = memory();
  const opened = await openStore(kind, where);
  const { store } = opened;
  const run = `scale-${process.pid}-${kind}`;
  const t0 = Date.now();
  const limitS = envInt('SCALE_CREATE_SECONDS', 600);
  try {
    const bytes0 = (await opened.bytes()) ?? 0;
    const heap0 = memory().heapUsed;
    const deadline = Date.now() + limitS * 1000;
    const first = Math.min(1000, n);
    let t1 = performance.now();
    await createRange(store, run, 0, first, t0, deadline);
    let createMs = performance.now() - t1;
    log(`${first} sessions: ops`);
    const at1000 = await opsAt(store, run, first, t0);
    t1 = performance.now();
    const reached = await createRange(store, run, first, n, t0, deadline);
    createMs += performance.now() - t1; // the ops at 1 000 in between are not counted
    const createPerSecond = reached / (createMs / 1000);
    log(
      `${reached} sessions in ${Math.round(createMs / 1000)} s (${Math.round(createPerSecond)}/s)`,
    );
    const after = memory();
    const bytes1 = await opened.bytes();
    const bytesPerSession =
      bytes1 === null ? (after.heapUsed - heap0) / reached : (bytes1 - bytes0) / reached;
    log(`${reached} sessions: ops`);
    const atN = await opsAt(store, run, reached, t0);

    // One user with many sessions.
    const u = envInt('SCALE_USER_SESSIONS', 10_000);
    await createRange(
      store,
      run,
      10_000_000,
      10_000_000 + u,
      t0,
      Number.POSITIVE_INFINITY,
      () => HEAVY,
    );
    const { createSessions } = await import('../src/index.ts');
    const sessions = createSessions({
      secrets: [SECRET],
      store,
      maxSessionsPerUser: u,
      cookie: { secure: false },
      logger: false,
    });
    let t = performance.now();
    const listed = (await sessions.listSessions(HEAVY)).length;
    const listMs = performance.now() - t;
    const rs = sessions.request({ secure: false, host: 'localhost' });
    const s = await rs.session();
    s.login(HEAVY);
    t = performance.now();
    await rs.commit({ status: 200 });
    const loginAtCapMs = performance.now() - t;
    const afterLogin = (await store.listByUser(HEAVY, Date.now())).length;
    t = performance.now();
    const revoked = await sessions.revokeUserSessions(HEAVY);
    const revokeMs = performance.now() - t;
    log(
      `user of ${u}: list ${listMs.toFixed(0)} ms, login ${loginAtCapMs.toFixed(0)} ms, revoke ${revokeMs.toFixed(0)} ms`,
    );

    // Purge of the half that has expired (at a `now` 90 minutes ahead), under light load.
    let purge: StoreResult['purge'] = null;
    if (store.purgeExpired) {
      const load =
        kind === 'memory'
          ? startInProcessLoad(store, run, reached)
          : await startProbe(kind, where, run, reached);
      const control = await startControl();
      await new Promise((r) => setTimeout(r, 1000));
      load.mark();
      control.mark();
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      t = performance.now();
      const deleted = await store.purgeExpired(t0 + 1.5 * HOUR);
      const ms = performance.now() - t;
      loop.disable();
      await new Promise((r) => setTimeout(r, 300));
      const probe = await load.stop();
      purge = { ms, deleted, loopMaxMs: loop.max / 1e6, probe, control: await control.stop() };
      log(`purge: ${deleted} in ${ms.toFixed(0)} ms, probe max ${probe.maxMs.toFixed(1)} ms`);
    }
    return {
      kind,
      n: reached,
      requested: n,
      createPerSecond,
      bytesPerSession,
      bytesHow: opened.bytesHow,
      rss: [before.rss, after.rss],
      heap: [before.heapUsed, after.heapUsed],
      at1000,
      atN,
      user: { sessions: u, listMs, listed, loginAtCapMs, afterLogin, revokeMs, revoked },
      purge,
    };
  } finally {
    // Cleanup first: the Cluster's cleanup scans the masters through the store's own client.
    await opened.cleanup().catch((err) => log(`cleanup failed: ${(err as Error).message}`));
    await opened.close();
  }
}

/** connect-redis's bytes per session for the same data (express-session keeps no UA or IP). */
async function connectRedisBytes(n: number): Promise<number> {
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const { Redis } = await import('ioredis');
  const io = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const scanner = ioredisScanner(io, PEER_PREFIX);
  try {
    await scanAll(scanner, async (keys) => void (await scanner.unlink(keys)));
    const store = new RedisStore({ client, prefix: PEER_PREFIX });
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const sess = {
          cookie: {
            originalMaxAge: 86_400_000,
            expires,
            secure: false,
            httpOnly: true,
            path: '/',
            sameSite: 'lax',
          },
          ...DATA,
          userId: `u-${Math.floor(i / 5)}`,
        };
        await new Promise<void>((resolve, reject) =>
          store.set(keyOf('peer', i), sess as never, (err) => (err ? reject(err) : resolve())),
        );
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return (await usage([scanner])) / n;
  } finally {
    await scanAll(scanner, async (keys) => void (await scanner.unlink(keys)));
    await client.quit();
    await io.quit();
  }
}

// ---------- report ----------

const f0 = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '–'
    : Math.round(x).toLocaleString('en-US').replace(/,/g, ' ');
const f2 = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1);
const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;

function markdown(results: readonly StoreResult[], peerBytes: number | null, meta: string): string {
  const u = results[0]?.user.sessions ?? 0;
  const head = `| | ${results.map((r) => r.kind).join(' | ')} |`;
  const sep = `|---|${results.map(() => '--:').join('|')}|`;
  const row = (label: string, cell: (r: StoreResult) => string) =>
    `| ${label} | ${results.map(cell).join(' | ')} |`;
  const op = (which: 'at1000' | 'atN', name: 'get' | 'update' | 'touch' | 'listByUser') =>
    row(
      `${name} p50 / p99 ms at ${which === 'at1000' ? '1 000' : 'N'}`,
      (r) => `${f2(r[which][name].p50)} / ${f2(r[which][name].p99)}`,
    );
  const lines = [
    meta,
    '',
    head,
    sep,
    row('sessions (N)', (r) =>
      r.n < r.requested ? `${f0(r.n)} (of ${f0(r.requested)}: time cap)` : f0(r.n),
    ),
    row('creates per second', (r) => f0(r.createPerSecond)),
    row('bytes per session in the store', (r) => f0(r.bytesPerSession)),
    row('app RSS before → after', (r) => `${mib(r.rss[0])} → ${mib(r.rss[1])}`),
    row('app heap before → after', (r) => `${mib(r.heap[0])} → ${mib(r.heap[1])}`),
    op('at1000', 'get'),
    op('atN', 'get'),
    op('at1000', 'update'),
    op('atN', 'update'),
    op('at1000', 'touch'),
    op('atN', 'touch'),
    op('at1000', 'listByUser'),
    op('atN', 'listByUser'),
    row(`user of ${f0(u)}: listSessions ms`, (r) => f2(r.user.listMs)),
    row(
      `user of ${f0(u)}: login at the cap ms`,
      (r) => `${f2(r.user.loginAtCapMs)} (${f0(r.user.afterLogin)} left)`,
    ),
    row(
      `user of ${f0(u)}: revokeUserSessions ms`,
      (r) => `${f2(r.user.revokeMs)} (${f0(r.user.revoked)})`,
    ),
    row('purge of N/2 expired: ms (deleted)', (r) =>
      r.purge ? `${f0(r.purge.ms)} (${f0(r.purge.deleted)})` : 'native expiry',
    ),
    row('purge: this process’s longest event-loop delay ms', (r) =>
      r.purge ? f2(r.purge.loopMaxMs) : '–',
    ),
    row('purge: light load’s longest request ms, the second before → during', (r) =>
      r.purge
        ? `${f2(r.purge.probe.maxBeforeMs)} → ${f2(r.purge.probe.maxMs)}${r.purge.probe.errors ? ` (${r.purge.probe.errors} errors)` : ''}`
        : '–',
    ),
    row('purge: light load process’s longest event-loop delay ms (during)', (r) =>
      r.purge ? f2(r.purge.probe.loopMaxMs) : '–',
    ),
    row(
      'purge: a control process sharing nothing, its longest event-loop delay ms, the second before → during',
      (r) =>
        r.purge ? `${f2(r.purge.control.loopMaxBeforeMs)} → ${f2(r.purge.control.loopMaxMs)}` : '–',
    ),
    '',
    'Bytes per session: ' + results.map((r) => `${r.kind}: ${r.bytesHow}`).join('; ') + '.',
  ];
  if (peerBytes !== null) {
    const redis = results.find((r) => r.kind === 'redis');
    lines.push(
      '',
      `Peer: express-session + connect-redis keeps the same data in ${f0(peerBytes)} bytes per session (MEMORY USAGE, one string key; no user index, user agent or IP)` +
        (redis?.bytesPerSession
          ? `; tessera's redisStore: ${f0(redis.bytesPerSession)} (${(redis.bytesPerSession / peerBytes).toFixed(2)}×).`
          : '.'),
    );
  }
  return `${lines.join('\n')}\n`;
}

// ---------- main ----------

async function main(): Promise<void> {
  const n = envInt('SCALE_N', 1_000_000);
  const chosen = (process.env['SCALE_STORES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of chosen)
    if (!KINDS.includes(k as Kind))
      throw new Error(`unknown store ${k}; known: ${KINDS.join(', ')}`);
  const kinds = chosen.length ? (chosen as Kind[]) : KINDS;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const started = Date.now();
  const results: StoreResult[] = [];
  let peerBytes: number | null = null;
  try {
    for (const kind of kinds) {
      try {
        results.push(await measureStore(kind, n, dir));
      } catch (err) {
        console.log(`[${kind}] skipped: ${(err as Error).message}`);
      }
      if (kind === 'redis') {
        peerBytes = await connectRedisBytes(Math.min(n, 100_000)).catch((err) => {
          console.log(`[connect-redis] skipped: ${(err as Error).message}`);
          return null;
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const meta = `\`SCALE_N=${n} npm run bench:scale\` · ${new Date().toISOString()} · Node ${process.version} · ${Math.round((Date.now() - started) / 1000)} s`;
  const md = markdown(results, peerBytes, meta);
  const out = process.env['SCALE_OUT'] ?? fileURLToPath(new URL('./results', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/scale.md`, md);
  writeFileSync(`${out}/scale.json`, `${JSON.stringify({ n, results, peerBytes }, null, 2)}\n`);
  console.log(`\n${md}\nwrote ${out}/scale.md and scale.json`);
  process.exit(0);
}

if (process.argv[2] === '--probe') await probeMain(process.argv[3]!);
else if (process.argv[2] === '--control') await controlMain();
else await main();
