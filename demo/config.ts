/**
 * The demo's configuration, from environment variables. Every mistake is reported by the name of
 * the variable to fix, before the server takes a request.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { SealedStore, SessionStore } from '../src/index.ts';
import { cookieStore, memoryStore, revocationList } from '../src/index.ts';
// The demo lives in the repository and may borrow a private helper; an app would pass the
// strings to createSessions and let it report the error.
import { parseDuration } from '../src/lib/duration.ts';

/** A configuration mistake: the message names the variable and says how to fix it. */
export class DemoConfigError extends Error {
  override name = 'DemoConfigError';
}

export interface DemoConfig {
  readonly port: number;
  readonly host: string;
  /** `memory`, `cookie`, `sqlite:<file>`, `redis://…`, `postgres://…`, `mysql://…` or `cached:<primary>,<cache>`. */
  readonly store: string;
  readonly secret: string;
  /** Where the secret came from, for the start-up log. */
  readonly secretSource: 'env' | 'file' | 'generated';
  readonly cookieName: string;
  /** Milliseconds. */
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  readonly production: boolean;
  /** Where the development secret and the default SQLite file live. */
  readonly dataDir: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A duration variable in ms; tessera's own parser, so the demo accepts exactly what it does. */
function duration(env: Env, name: string): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  try {
    return parseDuration(/^\d+$/.test(value) ? Number(value) : value, name);
  } catch {
    throw new DemoConfigError(
      `${name} must be a duration such as "30m", "2h", "1h30m", "45s" or a number of milliseconds; got ${JSON.stringify(value)}`,
    );
  }
}

const DEFAULT_IDLE = 30 * 60_000;
const DEFAULT_ABSOLUTE = 12 * 3_600_000;

/**
 * Setting one timeout alone never makes the pair invalid (an absolute timeout shorter than the
 * idle one): the other follows it. Setting both inconsistently is an error naming both.
 */
function timeouts(env: Env): Pick<DemoConfig, 'idleTimeout' | 'absoluteTimeout'> {
  const idle = duration(env, 'SESSION_IDLE_TIMEOUT');
  const absolute = duration(env, 'SESSION_ABSOLUTE_TIMEOUT');
  if (idle !== undefined && idle < 1000) {
    throw new DemoConfigError(`SESSION_IDLE_TIMEOUT must be at least 1s; got ${idle} ms`);
  }
  if (idle !== undefined && absolute !== undefined && absolute < idle) {
    throw new DemoConfigError(
      `SESSION_ABSOLUTE_TIMEOUT (${absolute} ms) must be at least SESSION_IDLE_TIMEOUT (${idle} ms)`,
    );
  }
  const idleTimeout = idle ?? Math.min(DEFAULT_IDLE, absolute ?? DEFAULT_IDLE);
  if (idleTimeout < 1000) {
    throw new DemoConfigError(`SESSION_ABSOLUTE_TIMEOUT must be at least 1s; got ${absolute} ms`);
  }
  return { idleTimeout, absoluteTimeout: absolute ?? Math.max(DEFAULT_ABSOLUTE, idleTimeout) };
}

function port(env: Env): number {
  const value = env['PORT']?.trim() || '3000';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) {
    throw new DemoConfigError(
      `PORT must be a whole number from 0 to 65535; got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function serverStore(value: string): boolean {
  return (
    value === 'memory' ||
    /^sqlite:.+/.test(value) ||
    /^rediss?:\/\/./.test(value) ||
    /^postgres(ql)?:\/\/./.test(value) ||
    /^(mysql|mariadb):\/\/./.test(value)
  );
}

function storeSpec(env: Env): string {
  const value = env['SESSION_STORE']?.trim() || 'sqlite:./data/sessions.db';
  // cached:<primary>,<cache>, e.g. cached:postgres://…,redis://… (two server-side stores).
  const cached = /^cached:([^,]+),([^,]+)$/.exec(value);
  if (cached) {
    if (serverStore(cached[1]!) && serverStore(cached[2]!)) return value;
    throw new DemoConfigError(
      `SESSION_STORE=cached:<primary>,<cache> takes two server-side stores (memory, sqlite:<file>, redis://, postgres://, mysql://), e.g. cached:postgres://127.0.0.1/test,redis://127.0.0.1:6379; got ${JSON.stringify(value)}`,
    );
  }
  if (
    value === 'memory' ||
    value === 'cookie' ||
    /^sqlite:.+/.test(value) ||
    /^rediss?:\/\/./.test(value) ||
    /^postgres(ql)?:\/\/./.test(value) ||
    /^(mysql|mariadb):\/\/./.test(value)
  ) {
    return value;
  }
  throw new DemoConfigError(
    `SESSION_STORE must be one of memory, cookie, sqlite:<file>, redis://host:port, postgres://user@host/db, mysql://user@host/db or cached:<primary>,<cache>; got ${JSON.stringify(value)}`,
  );
}

/**
 * The signing secret. Production must be given one (a generated secret would change on every
 * deploy and sign everyone out); development keeps one in `<dataDir>/secret`, readable by its
 * owner only, so restarts keep sessions.
 */
function secret(
  env: Env,
  production: boolean,
  dataDir: string,
): Pick<DemoConfig, 'secret' | 'secretSource'> {
  const given = env['SESSION_SECRET'];
  const howTo = `generate one with: node -p "crypto.randomBytes(32).toString('base64url')"`;
  if (given !== undefined && given !== '') {
    if (Buffer.byteLength(given) < 32) {
      throw new DemoConfigError(`SESSION_SECRET must be at least 32 bytes; ${howTo}`);
    }
    return { secret: given, secretSource: 'env' };
  }
  if (production) {
    throw new DemoConfigError(`SESSION_SECRET is required when NODE_ENV=production; ${howTo}`);
  }
  const file = join(dataDir, 'secret');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (Buffer.byteLength(stored) >= 32) return { secret: stored, secretSource: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const fresh = randomBytes(32).toString('base64url');
  writeFileSync(file, `${fresh}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // mode applies only when the file is created
  return { secret: fresh, secretSource: 'generated' };
}

/**
 * Read the configuration from `env`. Throws {@link DemoConfigError} naming the variable to fix.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env);
 * ```
 */
export function loadConfig(env: Env, { cwd = process.cwd() }: { cwd?: string } = {}): DemoConfig {
  const production = env['NODE_ENV'] === 'production';
  const dataDir = resolve(cwd, 'data');
  const cookieName = env['SESSION_COOKIE_NAME']?.trim() || 'sid';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw new DemoConfigError(
      `SESSION_COOKIE_NAME must be a cookie name (letters, digits, - _ . and no spaces); got ${JSON.stringify(cookieName)}`,
    );
  }
  return {
    port: port(env),
    host: env['HOST']?.trim() || '127.0.0.1',
    store: storeSpec(env),
    ...secret(env, production, dataDir),
    cookieName,
    ...timeouts(env),
    production,
    dataDir,
  };
}

/**
 * `postgres://127.0.0.1:5432/test` names no user. psql then logs in as the operating-system user;
 * `pg` takes `$USER` instead, and sends no user at all when that is unset (in containers and
 * services), which the server refuses. Do what psql does.
 */
function withDefaultUser(spec: string): string {
  const url = new URL(spec);
  if (url.username || process.env['PGUSER']) return spec;
  url.username = process.env['USER'] || userInfo().username;
  return url.toString();
}

/** A store opened from `SESSION_STORE`, with what it takes to release it. */
export interface OpenedStore {
  readonly store: SessionStore | SealedStore;
  /** The store's own clients (ioredis); tessera's `sessions.close()` ends the rest. */
  readonly close: () => Promise<void>;
  /** Whether "your sessions" can be listed (a sealed cookie store keeps no list). */
  readonly listable: boolean;
}

/**
 * Open the store a spec names. Drivers are imported only when asked for, so the demo runs with
 * none of `pg`, `mysql2` and `ioredis` installed as long as it does not use them.
 *
 * @example
 * ```ts
 * const { store } = await openStore('sqlite:./data/sessions.db', process.cwd());
 * ```
 */
export async function openStore(spec: string, cwd = process.cwd()): Promise<OpenedStore> {
  const none = async () => {};
  if (spec === 'memory') return { store: memoryStore(), close: none, listable: true };
  if (spec.startsWith('cached:')) {
    const [primarySpec, cacheSpec] = spec.slice('cached:'.length).split(',') as [string, string];
    const primary = await openStore(primarySpec, cwd);
    const cache = await openStore(cacheSpec, cwd);
    const { cachedStore } = await import('../src/stores/cached.ts');
    return {
      store: cachedStore({
        primary: primary.store as SessionStore,
        cache: cache.store as SessionStore,
      }),
      close: async () => {
        await Promise.all([primary.close(), cache.close()]);
      },
      listable: true,
    };
  }
  if (spec === 'cookie') {
    // "Sign out other sessions" needs somewhere to remember the revocation; one process here.
    return {
      store: cookieStore({ revocations: revocationList(memoryStore()) }),
      close: none,
      listable: false,
    };
  }
  if (spec.startsWith('sqlite:')) {
    const path = resolve(cwd, spec.slice('sqlite:'.length));
    mkdirSync(dirname(path), { recursive: true });
    const { sqliteStore } = await import('../src/stores/sqlite.ts');
    return { store: sqliteStore({ path }), close: none, listable: true };
  }
  if (/^rediss?:/.test(spec)) {
    const { Redis } = await import('ioredis');
    const { redisStore } = await import('../src/stores/redis.ts');
    // One retry; the store bounds every call (commandTimeout), so while Redis is down requests
    // answer 503 within two seconds instead of hanging.
    const client = new Redis(spec, { maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // reconnects by itself; /healthz reports the outage
    return {
      store: redisStore({ client }),
      close: async () => {
        client.disconnect();
      },
      listable: true,
    };
  }
  if (/^(mysql|mariadb):/.test(spec)) {
    const { mysqlStore } = await import('../src/stores/mysql.ts');
    return {
      store: mysqlStore({ uri: spec.replace(/^mariadb:/, 'mysql:') }),
      close: none,
      listable: true,
    };
  }
  const { postgresStore } = await import('../src/stores/postgres.ts');
  return {
    store: postgresStore({ connectionString: withDefaultUser(spec) }),
    close: none,
    listable: true,
  };
}
