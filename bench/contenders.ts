/**
 * Who runs in the benchmark. One entry per server process: `bench/server.ts <name>` builds it,
 * `bench/run.ts` drives it. Adding a contender is one entry here plus one case in server.ts.
 */

export type Framework = 'node' | 'express' | 'fastify' | 'hono' | 'koa';
export type StoreKind =
  | 'none'
  | 'memory'
  | 'sqlite'
  | 'postgres'
  | 'mysql'
  | 'redis'
  | 'cached'
  | 'cookie';
export type Service = 'redis' | 'postgres' | 'mysql';
export type Scenario = 'read' | 'write' | 'new' | 'idle';

export const scenarios: readonly Scenario[] = ['read', 'write', 'idle', 'new'];

export interface Contender {
  readonly name: string;
  readonly framework: Framework;
  readonly store: StoreKind;
  /** The session library measured (for the table). */
  readonly library: string;
  /** Services that must answer for this row to run. */
  readonly needs: readonly Service[];
  /** The library this contender replaces (the "vs peer" column), if any. */
  readonly peer?: string;
  /** Set when the adapter is not available in this checkout (see `unavailable`). */
  readonly module?: string;
}

const ceiling = (framework: Framework): Contender => ({
  name: `${framework}-bare`,
  framework,
  store: 'none',
  library: 'no session (ceiling)',
  needs: [],
});

export const contenders: readonly Contender[] = [
  ceiling('node'),
  ceiling('express'),
  ceiling('fastify'),
  ceiling('hono'),
  ceiling('koa'),
  {
    name: 'express-session-memory',
    framework: 'express',
    store: 'memory',
    library: 'express-session + MemoryStore',
    needs: [],
  },
  {
    name: 'express-session-redis',
    framework: 'express',
    store: 'redis',
    library: 'express-session + connect-redis',
    needs: ['redis'],
  },
  {
    // The usual PostgreSQL choice: connect-pg-simple on its own pg.Pool, its own table.
    name: 'express-session-pg',
    framework: 'express',
    store: 'postgres',
    library: 'express-session + connect-pg-simple',
    needs: ['postgres'],
  },
  {
    // The usual embedded choice: better-sqlite3-session-store on better-sqlite3 (WAL file).
    name: 'express-session-sqlite',
    framework: 'express',
    store: 'sqlite',
    library: 'express-session + better-sqlite3-session-store',
    needs: [],
  },
  {
    name: 'express-session-mysql',
    framework: 'express',
    store: 'mysql',
    library: 'express-session + express-mysql-session',
    needs: ['mysql'],
  },
  {
    name: 'fastify-session-memory',
    framework: 'fastify',
    store: 'memory',
    library: '@fastify/session + MemoryStore',
    needs: [],
  },
  {
    name: 'iron-session-node',
    framework: 'node',
    store: 'cookie',
    library: 'iron-session',
    needs: [],
  },
  {
    name: 'tessera-node-memory',
    framework: 'node',
    store: 'memory',
    library: 'tessera memoryStore',
    needs: [],
    peer: 'express-session-memory',
  },
  {
    name: 'tessera-node-sqlite',
    framework: 'node',
    store: 'sqlite',
    library: 'tessera sqliteStore',
    needs: [],
    peer: 'express-session-sqlite',
  },
  {
    name: 'tessera-node-postgres',
    framework: 'node',
    store: 'postgres',
    library: 'tessera postgresStore',
    needs: ['postgres'],
    peer: 'express-session-pg',
  },
  {
    name: 'tessera-node-redis',
    framework: 'node',
    store: 'redis',
    library: 'tessera redisStore',
    needs: ['redis'],
    peer: 'express-session-redis',
  },
  {
    name: 'tessera-node-mysql',
    framework: 'node',
    store: 'mysql',
    library: 'tessera mysqlStore',
    needs: ['mysql'],
    peer: 'express-session-mysql',
  },
  {
    // issue 17: read within 10 % of plain Redis, write no worse than plain PostgreSQL
    name: 'tessera-node-cached',
    framework: 'node',
    store: 'cached',
    library: 'tessera cachedStore (PostgreSQL + Redis)',
    needs: ['postgres', 'redis'],
    peer: 'express-session-redis',
  },
  {
    name: 'tessera-node-cookie',
    framework: 'node',
    store: 'cookie',
    library: 'tessera cookieStore',
    needs: [],
    peer: 'iron-session-node',
  },
  {
    name: 'tessera-hono-memory',
    framework: 'hono',
    store: 'memory',
    library: 'tessera memoryStore',
    needs: [],
    peer: 'express-session-memory',
  },
  {
    name: 'tessera-koa-memory',
    framework: 'koa',
    store: 'memory',
    library: 'tessera memoryStore',
    needs: [],
    peer: 'express-session-memory',
    module: '../src/adapters/koa.ts',
  },
  {
    name: 'tessera-express-memory',
    framework: 'express',
    store: 'memory',
    library: 'tessera memoryStore',
    needs: [],
    peer: 'express-session-memory',
    module: '../src/adapters/express.ts',
  },
  {
    name: 'tessera-express-redis',
    framework: 'express',
    store: 'redis',
    library: 'tessera redisStore',
    needs: ['redis'],
    peer: 'express-session-redis',
    module: '../src/adapters/express.ts',
  },
  {
    name: 'tessera-fastify-memory',
    framework: 'fastify',
    store: 'memory',
    library: 'tessera memoryStore',
    needs: [],
    peer: 'fastify-session-memory',
    module: '../src/adapters/fastify.ts',
  },
];

/** The no-session server of the same framework: the ceiling a session layer is measured against. */
export function ceilingOf(c: Contender): string {
  return `${c.framework}-bare`;
}

/**
 * Why a contender cannot run in this checkout (its adapter is missing, or a native module it needs
 * was built for another Node), or null when it can.
 */
export async function unavailable(c: Contender): Promise<string | null> {
  if (c.module) {
    const { existsSync } = await import('node:fs');
    if (!existsSync(new URL(c.module, import.meta.url))) {
      return `${c.module} is not in this checkout yet`;
    }
  }
  if (c.name === 'express-session-sqlite') {
    try {
      const { default: Database } = await import('better-sqlite3');
      new Database(':memory:').close();
    } catch (err) {
      return `better-sqlite3 does not load on Node ${process.version} (${(err as Error).message.split('\n')[0]}); npm run bench:deps rebuilds it for this Node`;
    }
  }
  return null;
}

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
export const COOKIE = 'sid';
export const USER = { id: 'u-1042', name: 'Ada Lovelace', roles: ['reader', 'editor'] };
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
