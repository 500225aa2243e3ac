/**
 * `npm run bench`: every contender as its own server process, driven by autocannon from this
 * process over loopback, every scenario repeated in interleaved rounds (A B C, A B C, …), medians
 * reported. Knobs (environment):
 *
 * - `BENCH_DURATION` seconds measured per scenario and round (default 2)
 * - `BENCH_WARMUP` seconds of warm-up before each measurement, discarded (default 0.5)
 * - `BENCH_ROUNDS` rounds (default 5; more, shorter rounds resist bursts of load from neighbours)
 * - `BENCH_CONNECTIONS` concurrent connections (default 50)
 * - `BENCH_SESSIONS` distinct sessions the requests rotate over (default 500)
 * - `BENCH_ONLY` comma-separated parts of contender names (`tessera-node,redis`); the ceilings and
 *   peers of the chosen rows are added so the ratios stay defined
 * - `BENCH_SCENARIOS` comma-separated subset of `read,write,idle,new`
 * - `BENCH_OUT` folder for `latest.md` / `latest.json` (default `bench/results`)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  scenarios as allScenarios,
  available,
  type Contender,
  ceilingOf,
  contenders,
  DATABASE_URL,
  MYSQL_URL,
  REDIS_URL,
  type Scenario,
  type Service,
} from './contenders.ts';

export interface BenchConfig {
  /** Seconds per measurement; `0` with `amount` set runs a fixed number of requests instead. */
  readonly duration: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly connections: number;
  readonly sessions: number;
  /** A fixed request count per measurement (smoke runs); overrides `duration`. */
  readonly amount?: number;
  readonly only: readonly string[];
  readonly scenarios: readonly Scenario[];
  /** Whether a missing Redis/PostgreSQL is an error (CI) rather than skipped rows. */
  readonly requireServices: boolean;
  readonly log: (line: string) => void;
}

export interface Sample {
  readonly rps: number;
  readonly p99: number;
  /** Server CPU (user + system) per 2xx response, in µs; null where /proc is not available. */
  readonly cpuUs: number | null;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface Row {
  readonly contender: string;
  readonly scenario: Scenario;
  readonly samples: Sample[];
}

export interface BenchResult {
  readonly meta: {
    readonly date: string;
    readonly node: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly config: Omit<BenchConfig, 'log' | 'only' | 'requireServices'> & {
      readonly only: readonly string[];
    };
    readonly skipped: readonly { readonly contender: string; readonly reason: string }[];
  };
  readonly rows: Row[];
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function configFromEnv(): BenchConfig {
  const scenarios = list(process.env['BENCH_SCENARIOS']);
  for (const s of scenarios) {
    if (!allScenarios.includes(s as Scenario)) throw new Error(`unknown scenario ${s}`);
  }
  return {
    duration: envNumber('BENCH_DURATION', 2),
    warmup: envNumber('BENCH_WARMUP', 0.5),
    rounds: Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 5))),
    connections: Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 50))),
    sessions: Math.max(1, Math.round(envNumber('BENCH_SESSIONS', 500))),
    only: list(process.env['BENCH_ONLY']),
    scenarios: scenarios.length ? (scenarios as Scenario[]) : allScenarios,
    requireServices: process.env['CI'] === 'true' || process.env['CI'] === '1',
    log: (line) => console.log(line),
  };
}

// ---------- services ----------

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function probe(service: Service): Promise<string | null> {
  try {
    if (service === 'redis') {
      const { Redis } = await import('ioredis');
      const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        await within(
          3000,
          client.connect().then(() => client.ping()),
        );
      } finally {
        client.disconnect();
      }
    } else if (service === 'mysql') {
      const { default: mysql } = await import('mysql2/promise');
      const conn = await within(
        3000,
        mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 }),
      );
      try {
        await within(3000, conn.query('SELECT 1'));
      } finally {
        await conn.end().catch(() => undefined);
      }
    } else {
      const { default: pg } = await import('pg');
      const client = new pg.Client({
        connectionString: DATABASE_URL,
        connectionTimeoutMillis: 3000,
      });
      try {
        await within(
          3000,
          client.connect().then(() => client.query('SELECT 1')),
        );
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    return null;
  } catch (err) {
    const where = service === 'redis' ? REDIS_URL : service === 'mysql' ? MYSQL_URL : DATABASE_URL;
    return `${service} is not reachable at ${where} (${(err as Error).message})`;
  }
}

// ---------- one server ----------

/** CPU time (user + system) a process has used, in ms, from /proc (Linux); null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

interface Running {
  readonly port: number;
  readonly child: ChildProcess;
}

export async function startServer(
  name: string,
  env: Record<string, string> = {},
): Promise<Running> {
  const child = spawn(process.execPath, [SERVER, name], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  let stdout = '';
  const port = await within(
    30_000,
    new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('exit', (code) =>
        reject(new Error(`server ${name} exited with ${code} before listening:\n${stderr}`)),
      );
    }),
  ).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { port, child };
}

export async function stopServer(running: Running): Promise<void> {
  if (running.child.exitCode !== null) return;
  const exited = once(running.child, 'exit');
  running.child.kill('SIGTERM');
  await within(10_000, exited).catch(() => running.child.kill('SIGKILL'));
}

/** Cookies of `count` sessions holding `user`, as `name=value` pairs. */
async function obtainCookies(port: number, count: number): Promise<string[]> {
  const cookies: string[] = [];
  const batch = 25;
  for (let i = 0; i < count; i += batch) {
    const got = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/new`);
        await res.arrayBuffer();
        const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
        if (res.status !== 200 || !cookie) {
          throw new Error(`GET /new answered ${res.status} without a session cookie`);
        }
        return cookie;
      }),
    );
    cookies.push(...got);
  }
  return cookies;
}

/** One request of each scenario, checked, before timing anything. */
async function preflight(
  port: number,
  scenario: Scenario,
  cookie: string | undefined,
  hasSessions: boolean,
) {
  const headers: Record<string, string> = cookie && scenario !== 'new' ? { cookie } : {};
  const res = await fetch(`http://127.0.0.1:${port}/${scenario}`, { headers });
  await res.arrayBuffer();
  if (res.status < 200 || res.status > 299) {
    throw new Error(`GET /${scenario} answered ${res.status}`);
  }
  if (hasSessions && scenario === 'new' && res.headers.getSetCookie().length === 0) {
    throw new Error('GET /new set no cookie');
  }
}

function cannon(
  port: number,
  scenario: Scenario,
  cookies: readonly string[],
  config: BenchConfig,
  seconds: number,
  amount: number | undefined,
): Promise<autocannon.Result> {
  let next = 0;
  const withCookie = scenario !== 'new' && cookies.length > 0;
  // Every contender and scenario goes through setupRequest, so the client's cost is the same for
  // all rows; requests rotate over the sessions like a crowd of visitors would.
  const options: autocannon.Options = {
    url: `http://127.0.0.1:${port}`,
    connections: config.connections,
    // A fixed amount (smoke runs) would otherwise wait for autocannon's 1 s sampling tick.
    ...(amount === undefined ? { duration: seconds } : { amount, sampleInt: 50 }),
    requests: [
      {
        method: 'GET',
        path: `/${scenario}`,
        setupRequest: (req) => ({
          ...req,
          headers: withCookie ? { cookie: cookies[next++ % cookies.length]! } : {},
        }),
      },
    ],
  };
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// ---------- the run ----------

function chosen(only: readonly string[]): Contender[] {
  if (only.length === 0) return [...contenders];
  const names = new Set<string>();
  for (const c of contenders) {
    if (!only.some((part) => c.name.includes(part))) continue;
    names.add(c.name);
    names.add(ceilingOf(c));
    if (c.peer) names.add(c.peer);
  }
  return contenders.filter((c) => names.has(c.name));
}

export async function runBench(config: BenchConfig): Promise<BenchResult> {
  const { log } = config;
  const skipped: { contender: string; reason: string }[] = [];
  const down = new Map<Service, string | null>();
  for (const service of ['redis', 'postgres', 'mysql'] as const)
    down.set(service, await probe(service));
  const active: Contender[] = [];
  for (const c of chosen(config.only)) {
    if (!(await available(c))) {
      skipped.push({ contender: c.name, reason: `${c.module} is not in this checkout yet` });
      continue;
    }
    const reason = c.needs.map((s) => down.get(s)).find(Boolean);
    if (reason) {
      if (config.requireServices) throw new Error(`${reason}; CI=true requires it`);
      skipped.push({ contender: c.name, reason });
      continue;
    }
    active.push(c);
  }
  for (const s of skipped) log(`[skip] ${s.contender}: ${s.reason}`);

  const rows = new Map<string, Row>();
  for (const c of active) {
    for (const scenario of config.scenarios) {
      rows.set(`${c.name}/${scenario}`, { contender: c.name, scenario, samples: [] });
    }
  }
  for (let round = 0; round < config.rounds; round++) {
    // Rotate the order each round so slow drift of a shared machine falls on every row alike.
    const order = active.map((_, i) => active[(i + round) % active.length]!);
    for (const c of order) {
      const running = await startServer(c.name);
      try {
        const needCookies = config.scenarios.some((s) => s !== 'new');
        // A ceiling has no session: it gets a cookie of the usual size all the same, so it parses
        // the same request bytes as the rows it is compared with.
        const cookies = !needCookies
          ? []
          : c.store === 'none'
            ? [`sid=${'x'.repeat(86)}`]
            : await obtainCookies(running.port, config.sessions);
        for (const scenario of config.scenarios) {
          await preflight(running.port, scenario, cookies[0], c.store !== 'none');
          if (config.warmup > 0 && config.amount === undefined) {
            await cannon(running.port, scenario, cookies, config, config.warmup, undefined);
          }
          const cpuBefore = cpuMs(running.child.pid);
          const r = await cannon(
            running.port,
            scenario,
            cookies,
            config,
            config.duration,
            config.amount,
          );
          const cpuAfter = cpuMs(running.child.pid);
          const ok = r['2xx'];
          const sample: Sample = {
            rps: r.duration > 0 ? ok / r.duration : 0,
            p99: r.latency.p99,
            cpuUs:
              cpuBefore === null || cpuAfter === null || ok === 0
                ? null
                : ((cpuAfter - cpuBefore) * 1000) / ok,
            ok,
            non2xx: r.non2xx,
            errors: r.errors + r.timeouts,
          };
          rows.get(`${c.name}/${scenario}`)!.samples.push(sample);
          const flag =
            sample.non2xx || sample.errors
              ? ` (!) non2xx=${sample.non2xx} errors=${sample.errors}`
              : '';
          log(
            `round ${round + 1}/${config.rounds} ${c.name.padEnd(24)} ${scenario.padEnd(5)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p99 ${sample.p99} ms${flag}`,
          );
        }
      } finally {
        await stopServer(running);
      }
    }
  }
  return {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      config: {
        duration: config.duration,
        warmup: config.warmup,
        rounds: config.rounds,
        connections: config.connections,
        sessions: config.sessions,
        ...(config.amount === undefined ? {} : { amount: config.amount }),
        only: config.only,
        scenarios: config.scenarios,
      },
      skipped,
    },
    rows: [...rows.values()],
  };
}

// ---------- report ----------

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Figure {
  readonly rps: number;
  readonly p99: number;
  readonly cpuUs: number | null;
}

export function figures(result: BenchResult): Map<string, Figure> {
  const out = new Map<string, Figure>();
  for (const row of result.rows) {
    out.set(`${row.contender}/${row.scenario}`, {
      rps: median(row.samples.map((s) => s.rps)),
      p99: median(row.samples.map((s) => s.p99)),
      cpuUs: row.samples.every((s) => s.cpuUs !== null)
        ? median(row.samples.map((s) => s.cpuUs!))
        : null,
    });
  }
  return out;
}

/**
 * How `a` compares with `b` in one scenario: the median of the per-round ratios. Two rows of one
 * round ran minutes apart at most, so a burst of load on the shared machine that hit one round
 * skews one ratio instead of both medians.
 */
export function ratio(result: BenchResult, a: string, b: string): number | null {
  const rowOf = (key: string) => result.rows.find((r) => `${r.contender}/${r.scenario}` === key);
  const x = rowOf(a)?.samples;
  const y = rowOf(b)?.samples;
  if (!x?.length || !y?.length) return null;
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (y[i]!.rps > 0) ratios.push(x[i]!.rps / y[i]!.rps);
  }
  return ratios.length ? median(ratios) : null;
}

interface Target {
  readonly what: string;
  readonly measured: number | null;
  readonly goal: number;
  readonly unit: '×' | '%';
}

/** The targets of issue 8 that the HTTP run can judge (memory per session is micro.ts's). */
export function targets(result: BenchResult): Target[] {
  const between = (a: string, b: string) => ratio(result, a, b);

  const out: Target[] = [];
  const tesseraMemory = contenders.filter(
    (c) => c.name.startsWith('tessera-') && c.store === 'memory',
  );
  for (const c of tesseraMemory) {
    const ceiling = ceilingOf(c);
    const r = between(`${c.name}/read`, `${ceiling}/read`);
    out.push({
      what: `${c.name} read vs ${ceiling}`,
      measured: r === null ? null : r * 100,
      goal: 80,
      unit: '%',
    });
  }
  for (const c of tesseraMemory) {
    out.push({
      what: `${c.name} read vs ${c.peer}`,
      measured: between(`${c.name}/read`, `${c.peer}/read`),
      goal: 2,
      unit: '×',
    });
  }
  for (const c of contenders.filter((x) => x.name.startsWith('tessera-'))) {
    const ceiling = ceilingOf(c);
    const r = between(`${c.name}/idle`, `${ceiling}/idle`);
    out.push({
      what: `${c.name} idle vs ${ceiling}`,
      measured: r === null ? null : r * 100,
      goal: 95,
      unit: '%',
    });
  }
  for (const c of contenders.filter((x) => x.name.startsWith('tessera-') && x.store === 'redis')) {
    for (const [scenario, goal] of [
      ['read', 2],
      ['write', 1.5],
      ['new', 1.5],
    ] as const) {
      out.push({
        what: `${c.name} ${scenario} vs express-session-redis`,
        measured: between(`${c.name}/${scenario}`, `express-session-redis/${scenario}`),
        goal,
        unit: '×',
      });
    }
  }
  for (const scenario of ['read', 'write'] as const) {
    out.push({
      what: `tessera-node-cookie ${scenario} vs iron-session-node`,
      measured: between(`tessera-node-cookie/${scenario}`, `iron-session-node/${scenario}`),
      goal: 5,
      unit: '×',
    });
  }
  return out.filter(
    (t) => t.measured !== null || result.rows.some((r) => t.what.startsWith(`${r.contender} `)),
  );
}

function fmt(n: number | undefined | null, digits = 0): string {
  return n === undefined || n === null || Number.isNaN(n) ? '–' : n.toFixed(digits);
}

export function markdown(result: BenchResult): string {
  const f = figures(result);
  const { meta } = result;
  const lines: string[] = [];
  const c = meta.config;
  lines.push(
    `Run ${meta.date} · Node ${meta.node} · ${meta.cpus} × ${meta.cpuModel} · ${meta.memoryGiB} GiB · ` +
      `${c.rounds} rounds × ${c.amount ?? `${c.duration} s`} (warm-up ${c.warmup} s) · ${c.connections} connections · ${c.sessions} sessions`,
    '',
    'req/s, p99 and server µs/req (server CPU, user + system, per response): medians over the rounds. vs ceiling / vs peer: median of the per-round ratios of req/s.',
    '',
  );
  const present = contenders.filter((x) => result.rows.some((r) => r.contender === x.name));
  for (const scenario of c.scenarios) {
    lines.push(`#### \`${scenario}\``, '');
    lines.push('| contender | library | req/s | p99 ms | server µs/req | vs ceiling | vs peer |');
    lines.push('|---|---|--:|--:|--:|--:|--:|');
    for (const x of present) {
      const own = f.get(`${x.name}/${scenario}`);
      const row = result.rows.find((r) => r.contender === x.name && r.scenario === scenario);
      const bad = row?.samples.some((s) => s.non2xx || s.errors) ? ' ⚠ non-2xx' : '';
      const toCeiling = ratio(result, `${x.name}/${scenario}`, `${ceilingOf(x)}/${scenario}`);
      const toPeer = x.peer
        ? ratio(result, `${x.name}/${scenario}`, `${x.peer}/${scenario}`)
        : null;
      const vsCeiling =
        x.store === 'none' ? '100 %' : toCeiling === null ? '–' : `${fmt(toCeiling * 100)} %`;
      const vsPeer = toPeer === null ? '' : `${fmt(toPeer, 2)}× ${x.peer}`;
      lines.push(
        `| ${x.name} | ${x.library} | ${fmt(own?.rps)}${bad} | ${fmt(own?.p99, 1)} | ${fmt(own?.cpuUs, 1)} | ${vsCeiling} | ${vsPeer} |`,
      );
    }
    lines.push('');
  }
  lines.push('#### Targets', '', '| target | goal | measured | |', '|---|--:|--:|---|');
  for (const t of targets(result)) {
    const goal = t.unit === '%' ? `≥ ${t.goal} %` : `≥ ${t.goal}×`;
    const measured =
      t.measured === null
        ? '–'
        : t.unit === '%'
          ? `${fmt(t.measured)} %`
          : `${fmt(t.measured, 2)}×`;
    const verdict = t.measured === null ? 'not run' : t.measured >= t.goal ? 'MET' : 'MISSED';
    lines.push(`| ${t.what} | ${goal} | ${measured} | ${verdict} |`);
  }
  if (meta.skipped.length) {
    lines.push('', 'Skipped:', '');
    for (const s of meta.skipped) lines.push(`- ${s.contender}: ${s.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  const config = configFromEnv();
  const started = Date.now();
  const result = await runBench(config);
  const out = process.env['BENCH_OUT'] ?? fileURLToPath(new URL('./results', import.meta.url));
  mkdirSync(out, { recursive: true });
  const md = markdown(result);
  writeFileSync(`${out}/latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${out}/latest.md`, md);
  console.log(`\n${md}`);
  console.log(
    `wrote ${out}/latest.md and latest.json in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}
