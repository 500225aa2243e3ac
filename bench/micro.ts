/**
 * `npm run bench:micro` (`node --expose-gc bench/micro.ts`): figures measured inside one process.
 *
 * - seal/open of a ~200-byte session record: tessera's cookie-store codec vs iron-session
 * - sign/verify of a session token: tessera vs express-session's cookie-signature
 * - heap bytes per session with 100 000 sessions: tessera `memoryStore` vs express-session's
 *   `MemoryStore` (each measured in a fresh child process, `--expose-gc`, heapUsed delta)
 * - store calls per request in each scenario (each call to Redis/PostgreSQL is one round trip),
 *   counted by wrapping the store of each benchmark server (`BENCH_COUNT_CALLS=1`)
 *
 * Writes `bench/results/micro.md` and `micro.json` (or `$BENCH_OUT`).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import signature from 'cookie-signature';
import { sealData, unsealData } from 'iron-session';
import { createSealCodec } from '../src/lib/seal.ts';
import {
  cachedVerifier,
  hashToken,
  importSecrets,
  newToken,
  signToken,
  verifyToken,
} from '../src/lib/token.ts';
import type { SessionRecord } from '../src/store.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { contenders, type Scenario, SECRET, scenarios, USER, unavailable } from './contenders.ts';
import { median, probe, startServer, stopServer } from './run.ts';

const SESSIONS = 100_000;
const ROUNDS = Number(process.env['BENCH_MICRO_ROUNDS'] ?? 3);
const SLICE_MS = Number(process.env['BENCH_MICRO_MS'] ?? 700);
/** A typical browser's, as tessera records it in the session's meta by default (trackMeta). */
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

function record(i: number): SessionRecord {
  const now = Date.now();
  return {
    data: { user: { ...USER, id: `u-${i}` }, n: i },
    userId: null,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 86_400_000,
    absoluteExpiresAt: now + 7 * 86_400_000,
    meta: {},
  };
}

/** Operations per second of `op`, run for `SLICE_MS`. */
async function rate(op: () => unknown): Promise<number> {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while ((elapsed = performance.now() - start) < SLICE_MS) {
    for (let i = 0; i < 50; i++) await op();
    n += 50;
  }
  return (n / elapsed) * 1000;
}

/** Interleaved rounds of every case; the median ops/s of each. */
async function compare(cases: Record<string, () => unknown>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(cases)) await rate(cases[name]!); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, op] of Object.entries(cases)) (samples[name] ??= []).push(await rate(op));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

async function crypto() {
  const id = hashToken(newToken());
  const payload = { id, record: record(1) };
  const codec = createSealCodec([Buffer.from(SECRET)]);
  const sealed = codec.seal(payload, 'sid');
  const iron = { password: SECRET, ttl: 86_400 };
  const ironSealed = await sealData(payload, iron);
  if (!codec.open(sealed, 'sid') || !(await unsealData(ironSealed, iron))) throw new Error('seal');
  const seal = await compare({
    'tessera seal': () => codec.seal(payload, 'sid'),
    'tessera open': () => codec.open(sealed, 'sid'),
    'iron-session sealData': () => sealData(payload, iron),
    'iron-session unsealData': () => unsealData(ironSealed, iron),
  });

  const keys = importSecrets([SECRET]);
  const token = newToken();
  const signed = signToken(token, keys);
  const verify = cachedVerifier(keys);
  const sid = randomBytes(24).toString('base64url');
  const expressSigned = signature.sign(sid, SECRET);
  if (!verifyToken(signed, keys) || signature.unsign(expressSigned, SECRET) !== sid)
    throw new Error('sign');
  const sign = await compare({
    'tessera signToken': () => signToken(token, keys),
    'tessera verifyToken': () => verifyToken(signed, keys),
    'tessera verify, cached (the request path)': () => verify(signed),
    'cookie-signature sign': () => signature.sign(sid, SECRET),
    'cookie-signature unsign': () => signature.unsign(expressSigned, SECRET),
  });
  return {
    recordBytes: JSON.stringify(payload).length,
    tesseraCookieBytes: sealed.length,
    ironCookieBytes: ironSealed.length,
    seal,
    sign,
  };
}

// ---------- memory per session (one child process per store) ----------

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) collect();
}

async function memoryChild(kind: string): Promise<number> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let keep: unknown;
  if (kind === 'tessera-session') {
    const store = memoryStore({ maxSessions: SESSIONS, sweepInterval: 0 });
    for (let i = 0; i < SESSIONS; i++) {
      const r = record(i);
      // trackMeta's default: what a browser's first request leaves in the record.
      await store.create(hashToken(newToken()), {
        ...r,
        meta: { userAgent: USER_AGENT, ip: '203.0.113.7' },
      });
    }
    if (store.size !== SESSIONS) throw new Error(`memoryStore kept ${store.size}`);
    keep = store;
  } else {
    const { default: session } = await import('express-session');
    const store = new session.MemoryStore();
    for (let i = 0; i < SESSIONS; i++) {
      const expires = new Date(Date.now() + 86_400_000);
      const data = {
        cookie: {
          originalMaxAge: 86_400_000,
          expires,
          secure: false,
          httpOnly: true,
          path: '/',
          sameSite: 'lax',
        },
        user: { ...USER, id: `u-${i}` },
        n: i,
      };
      store.set(
        randomBytes(24).toString('base64url'),
        data as unknown as import('express-session').SessionData,
        () => undefined,
      );
    }
    keep = store;
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (!keep) throw new Error('unreachable');
  return (after - before) / SESSIONS;
}

function memory(): { tessera: number; expressSession: number } {
  const self = fileURLToPath(import.meta.url);
  const measure = (kind: string) => {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const out = execFileSync(process.execPath, ['--expose-gc', self, '--memory', kind], {
        encoding: 'utf8',
      });
      samples.push(Number(out.trim()));
    }
    return median(samples);
  };
  return { tessera: measure('tessera-session'), expressSession: measure('express-session') };
}

// ---------- store calls per request ----------

const CALL_REQUESTS = 50;

async function storeCalls(log: (line: string) => void) {
  const out: Record<
    string,
    Record<Scenario, { perRequest: number; calls: Record<string, number> }>
  > = {};
  for (const c of contenders) {
    if (c.store === 'none' || c.store === 'cookie' || (await unavailable(c)) !== null) continue;
    const down = (await Promise.all(c.needs.map(probe))).find(Boolean);
    if (down) {
      log(`[skip] ${c.name}: ${down}`);
      continue;
    }
    const running = await startServer(c.name, { BENCH_COUNT_CALLS: '1' });
    const base = `http://127.0.0.1:${running.port}`;
    const get = async (path: string, cookie?: string) => {
      const res = await fetch(base + path, cookie ? { headers: { cookie } } : {});
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${c.name} ${path} answered ${res.status}`);
      return { res, text };
    };
    try {
      const row = {} as Record<Scenario, { perRequest: number; calls: Record<string, number> }>;
      for (const scenario of scenarios) {
        const first = await get('/new');
        const cookie = first.res.headers.getSetCookie()[0]?.split(';')[0];
        await get('/__calls');
        for (let i = 0; i < CALL_REQUESTS; i++)
          await get(`/${scenario}`, scenario === 'new' ? undefined : cookie);
        const calls = JSON.parse((await get('/__calls')).text) as Record<string, number>;
        const total = Object.values(calls).reduce((a, b) => a + b, 0);
        row[scenario] = { perRequest: total / CALL_REQUESTS, calls };
      }
      out[c.name] = row;
    } finally {
      await stopServer(running);
    }
  }
  return out;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

if (process.argv[2] === '--memory') {
  process.stdout.write(`${await memoryChild(process.argv[3] ?? '')}\n`);
} else if (import.meta.main) {
  const log = (line: string) => console.log(line);
  log('seal/open and sign/verify…');
  const c = await crypto();
  log('memory per session…');
  const mem = memory();
  log('store calls per request…');
  const calls = await storeCalls(log);
  const lines: string[] = [];
  lines.push(
    `Node ${process.version} · median of ${ROUNDS} interleaved rounds of ${SLICE_MS} ms`,
    '',
  );
  lines.push(
    `#### Seal / open (a ${c.recordBytes}-byte session record; cookie value: tessera ${c.tesseraCookieBytes} B, iron-session ${c.ironCookieBytes} B)`,
    '',
    '| operation | ops/s |',
    '|---|--:|',
  );
  for (const [k, v] of Object.entries(c.seal)) lines.push(`| ${k} | ${fmt(v)} |`);
  const sealRatio = c.seal['tessera seal']! / c.seal['iron-session sealData']!;
  const openRatio = c.seal['tessera open']! / c.seal['iron-session unsealData']!;
  lines.push(
    '',
    `tessera seals ${sealRatio.toFixed(1)}× and opens ${openRatio.toFixed(1)}× as fast as iron-session.`,
    '',
  );
  lines.push('#### Sign / verify a session token', '', '| operation | ops/s |', '|---|--:|');
  for (const [k, v] of Object.entries(c.sign)) lines.push(`| ${k} | ${fmt(v)} |`);
  lines.push(
    '',
    `#### Memory per session (${SESSIONS.toLocaleString('en-US')} sessions, heapUsed delta after GC)`,
    '',
    '| store | bytes/session |',
    '|---|--:|',
    `| tessera memoryStore (record with meta: user agent + IP) | ${Math.round(mem.tessera)} |`,
    `| express-session MemoryStore | ${Math.round(mem.expressSession)} |`,
    '',
    `Target memoryStore ≤ express-session MemoryStore: ${mem.tessera <= mem.expressSession ? 'MET' : 'MISSED'} (${(mem.tessera / mem.expressSession).toFixed(2)}×).`,
    '',
  );
  lines.push(
    `#### Store calls per request (${CALL_REQUESTS} sequential requests per scenario; a call is one round trip for Redis/PostgreSQL)`,
    '',
    `| contender | ${scenarios.join(' | ')} |`,
    `|---|${scenarios.map(() => '--:').join('|')}|`,
  );
  for (const [name, row] of Object.entries(calls)) {
    const cells = scenarios.map((s) => {
      const { perRequest, calls: by } = row[s];
      const detail = Object.entries(by)
        .map(([m, n]) => `${m} ${fmt(n / CALL_REQUESTS)}`)
        .join(', ');
      return `${fmt(perRequest)}${detail ? ` (${detail})` : ''}`;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  const md = `${lines.join('\n')}\n`;
  const out = process.env['BENCH_OUT'] ?? fileURLToPath(new URL('./results', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/micro.md`, md);
  writeFileSync(
    `${out}/micro.json`,
    `${JSON.stringify({ node: process.version, crypto: c, memory: mem, calls }, null, 2)}\n`,
  );
  console.log(`\n${md}`);
}
