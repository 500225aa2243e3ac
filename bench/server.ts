/**
 * One benchmark server: `node bench/server.ts <contender>`. Listens on 127.0.0.1 (a free port),
 * prints `{"port":N}` on stdout, serves until SIGTERM. Every contender answers the same four
 * routes with the same small JSON bodies:
 *
 * - `GET /new`   sets `user` in the session (creates it; the client sends no cookie)
 * - `GET /read`  reads `user` (409 when the session is missing: a misconfigured row shows up)
 * - `POST /write` reads `user` and sets `n` to a new value (one key changes; GET works too)
 * - `GET /idle`  never touches the session
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionStore } from '../src/index.ts';
import {
  COOKIE,
  type Contender,
  contenders,
  DATABASE_URL,
  MYSQL_URL,
  REDIS_URL,
  SECRET,
  USER,
} from './contenders.ts';

type User = typeof USER;
interface Data {
  user: User;
  n: number;
}

const OK = JSON.stringify({ ok: true });
const MISSING = JSON.stringify({ error: 'no session' });
let counter = 0;
const cleanups: (() => unknown)[] = [];

/**
 * With `BENCH_COUNT_CALLS=1` every store method call is counted (one call is one round trip for
 * Redis and PostgreSQL) and `GET /__calls` answers the counts since the last `/__calls`.
 */
const countCalls = process.env['BENCH_COUNT_CALLS'] === '1';
let calls: Record<string, number> = {};

function counted<T extends object>(store: T, methods: readonly string[]): T {
  if (!countCalls) return store;
  const target = store as Record<string, unknown>;
  for (const method of methods) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = function countedCall(this: unknown, ...args: unknown[]) {
      calls[method] = (calls[method] ?? 0) + 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return store;
}

const TESSERA_METHODS = [
  'get',
  'create',
  'insert',
  'update',
  'apply', // the request path's write where the store has it (Redis): update without the read-back
  'touch',
  'destroy',
  'listByUser',
  'destroyByUser',
];
const CONNECT_METHODS = ['get', 'set', 'touch', 'destroy'];

function takeCalls(): string {
  const body = JSON.stringify(calls);
  calls = {};
  return body;
}

/** The body and status of a route, given what the session holds (null: no session library). */
function reply(user: unknown): [number, string] {
  return user === undefined ? [409, MISSING] : [200, JSON.stringify({ ok: true, user })];
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function route(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return q === -1 ? (url ?? '/') : url!.slice(0, q);
}

// ---------- tessera stores ----------

async function tesseraStore(kind: Contender['store']) {
  const tessera = await import('../src/index.ts');
  switch (kind) {
    case 'memory':
      return tessera.memoryStore();
    case 'cookie':
      return tessera.cookieStore();
    case 'sqlite': {
      const { sqliteStore } = await import('../src/stores/sqlite.ts');
      const path = join(tmpdir(), `bench-tessera-${process.pid}.db`);
      cleanups.push(() => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      });
      return sqliteStore({ path });
    }
    case 'postgres': {
      const { postgresStore } = await import('../src/stores/postgres.ts');
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
      const table = 'tessera_bench_sessions';
      await pool.query(`TRUNCATE ${table}`).catch(() => undefined); // absent on the first run
      cleanups.push(() => pool.query(`TRUNCATE ${table}`).finally(() => pool.end()));
      // BENCH_PG_SYNCHRONOUS_COMMIT=on measures the store with every write durable.
      const sync = process.env['BENCH_PG_SYNCHRONOUS_COMMIT'];
      return postgresStore({
        pool,
        table,
        ...(sync === 'on' || sync === 'off' ? { synchronousCommit: sync } : {}),
      });
    }
    case 'mysql': {
      const { mysqlStore } = await import('../src/stores/mysql.ts');
      const { default: mysql } = await import('mysql2/promise');
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 20 });
      const table = 'tessera_bench_sessions';
      await pool.query(`TRUNCATE ${table}`).catch(() => undefined); // absent on the first run
      cleanups.push(() => pool.query(`TRUNCATE ${table}`).finally(() => pool.end()));
      return mysqlStore({ pool, table });
    }
    case 'cached': {
      // The same primary and cache as the plain rows, each under a name of its own.
      const { cachedStore } = await import('../src/stores/cached.ts');
      const { postgresStore } = await import('../src/stores/postgres.ts');
      const { redisStore } = await import('../src/stores/redis.ts');
      const { default: pg } = await import('pg');
      const { Redis } = await import('ioredis');
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
      const table = 'tessera_bench_cached';
      await pool.query(`TRUNCATE ${table}`).catch(() => undefined);
      const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
      const prefix = 'tessera-bench-cache:';
      const scanner: KeyScanner = {
        scan: (cursor, pattern) => client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
        unlink: (keys) => client.unlink(...keys),
      };
      await clearRedisPrefix(scanner, prefix);
      cleanups.push(() => pool.query(`TRUNCATE ${table}`).finally(() => pool.end()));
      cleanups.push(() => clearRedisPrefix(scanner, prefix).finally(() => client.quit()));
      return cachedStore({
        primary: postgresStore({ pool, table }),
        cache: redisStore({ client, prefix }),
      });
    }
    case 'redis': {
      const { redisStore } = await import('../src/stores/redis.ts');
      const { Redis } = await import('ioredis');
      // Auto-pipelining: commands of concurrent requests share one socket write (node-redis, under
      // connect-redis, does this by default).
      const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
      const prefix = 'tessera-bench:';
      const scanner: KeyScanner = {
        scan: (cursor, pattern) => client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
        unlink: (keys) => client.unlink(...keys),
      };
      await clearRedisPrefix(scanner, prefix);
      cleanups.push(() => clearRedisPrefix(scanner, prefix).finally(() => client.quit()));
      return redisStore({ client, prefix });
    }
    default:
      throw new Error(`no tessera store ${kind}`);
  }
}

/** Remove this bench's keys (never FLUSHDB: the Redis may be shared). */
interface KeyScanner {
  scan(cursor: string, pattern: string): Promise<[cursor: string, keys: string[]]>;
  unlink(keys: string[]): Promise<unknown>;
}

async function clearRedisPrefix(client: KeyScanner, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, `${prefix}*`);
    if (keys.length) await client.unlink(keys);
    cursor = next;
  } while (cursor !== '0');
}

async function tesseraSessions(kind: Contender['store']) {
  const { createSessions } = await import('../src/index.ts');
  const store = await tesseraStore(kind);
  const sessions = createSessions<Data>({
    secrets: [SECRET],
    store: kind === 'cookie' ? store : counted(store as SessionStore, TESSERA_METHODS),
    cookie: { name: COOKIE, secure: false },
  });
  await sessions.healthCheck();
  calls = {};
  return sessions;
}

// ---------- node:http ----------

function nodeBare(): Server {
  return createServer((req, res) => {
    const path = route(req.url);
    if (path === '/read' || path === '/write') return send(res, ...reply(USER));
    send(res, 200, OK);
  });
}

async function tesseraNode(c: Contender): Promise<Server> {
  const { withSessions } = await import('../src/adapters/node.ts');
  const sessions = await tesseraSessions(c.store);
  return createServer(
    withSessions(sessions, async (req, res, session) => {
      const path = route(req.url);
      if (path === '/idle') return send(res, 200, OK);
      const s = await session();
      if (path === '/new') {
        s.set('user', USER);
        return send(res, 200, OK);
      }
      const user = s.get('user');
      if (path === '/write' && user) s.set('n', ++counter);
      send(res, ...reply(user));
    }),
  );
}

async function ironSessionNode(): Promise<Server> {
  const { getIronSession } = await import('iron-session');
  const options = { password: SECRET, cookieName: COOKIE, cookieOptions: { secure: false } };
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = route(req.url);
    if (path === '/idle') return send(res, 200, OK);
    const session = await getIronSession<Partial<Data>>(req, res, options);
    if (path === '/new') {
      session.user = USER;
      await session.save();
      return send(res, 200, OK);
    }
    const user = session.user;
    if (path === '/write' && user) {
      session.n = ++counter;
      await session.save();
    }
    send(res, ...reply(user));
  });
}

// ---------- Express ----------

async function expressApp(c: Contender): Promise<Server> {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  type Get = (
    req: import('express').Request,
  ) => Promise<{ get(k: 'user'): User | undefined; set(k: string, v: unknown): void }>;
  let load: Get | null = null;
  if (c.name === 'express-bare') {
    load = null;
  } else if (c.name.startsWith('express-session-')) {
    const { default: session } = await import('express-session');
    let store: import('express-session').Store;
    if (c.store === 'redis') {
      const { RedisStore } = await import('connect-redis');
      const { createClient } = await import('redis');
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      const prefix = 'tessera-bench-es:';
      const scanClient: KeyScanner = {
        scan: async (cursor, pattern) => {
          const r = await client.scan(cursor, { MATCH: pattern, COUNT: 1000 });
          return [String(r.cursor), r.keys];
        },
        unlink: (keys) => client.unlink(keys),
      };
      await clearRedisPrefix(scanClient, prefix);
      cleanups.push(() => clearRedisPrefix(scanClient, prefix).finally(() => client.quit()));
      store = new RedisStore({ client, prefix });
    } else if (c.store === 'mysql') {
      // express-mysql-session 3 takes a mysql2/promise pool; it creates its table itself.
      const { default: mysql } = await import('mysql2/promise');
      const { default: MySQLStoreFactory } = await import('express-mysql-session');
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 20 });
      const MySQLStore = MySQLStoreFactory(session as never) as unknown as new (
        options: object,
        connection: unknown,
      ) => import('express-session').Store & { onReady(): Promise<void> };
      const mstore = new MySQLStore({ clearExpired: false }, pool);
      await mstore.onReady();
      cleanups.push(() => pool.query('DELETE FROM sessions').finally(() => pool.end()));
      store = mstore;
    } else if (c.store === 'postgres') {
      // connect-pg-simple on a pool of the same size as tessera's, in a table of its own that it
      // creates; pruning off during the run (tessera's sweep is off-path too).
      const { default: pg } = await import('pg');
      const { default: PgStore } = await import('connect-pg-simple');
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
      const tableName = 'tessera_bench_es_pg';
      await pool.query(`DROP TABLE IF EXISTS ${tableName}`);
      const PgSession = PgStore(session);
      const pstore = new PgSession({
        pool,
        tableName,
        createTableIfMissing: true,
        pruneSessionInterval: false,
      });
      cleanups.push(() =>
        pool.query(`DROP TABLE IF EXISTS ${tableName}`).finally(() => pool.end()),
      );
      store = pstore;
    } else if (c.store === 'sqlite') {
      // better-sqlite3-session-store on its own file, in WAL mode as better-sqlite3's docs
      // recommend for performance (its README's default journal would make this peer slower).
      const { default: Database } = await import('better-sqlite3');
      const { default: SqliteStoreFactory } = await import('better-sqlite3-session-store');
      const path = join(tmpdir(), `bench-es-sqlite-${process.pid}.db`);
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      cleanups.push(() => {
        db.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      });
      const SqliteStore = SqliteStoreFactory(session as never) as unknown as new (
        options: object,
      ) => import('express-session').Store;
      // Its expiry sweep every 15 min, as by default (never during a run).
      store = new SqliteStore({ client: db, expired: { clear: true, intervalMs: 900_000 } });
    } else {
      store = new session.MemoryStore();
    }
    counted(store, CONNECT_METHODS);
    app.use(
      session({
        secret: SECRET,
        name: COOKIE,
        resave: false,
        saveUninitialized: false,
        cookie: { secure: false, httpOnly: true, sameSite: 'lax' },
        store,
      }),
    );
    load = async (req) => {
      const s = req.session as unknown as Record<string, unknown>;
      return { get: (k) => s[k] as User | undefined, set: (k, v) => void (s[k] = v) };
    };
  } else {
    // tessera's Express adapter: `sessionMiddleware(sessions)` puts a lazy `req.session()` on
    // the request (imported by path: its global `req.session` type differs from express-session's).
    const adapter = (await import(c.module!)) as {
      sessionMiddleware: (sessions: unknown) => import('express').RequestHandler;
    };
    app.use(adapter.sessionMiddleware(await tesseraSessions(c.store)));
    load = async (req) => {
      const s = await (
        req as unknown as { session(): Promise<import('../src/index.ts').Session<Data>> }
      ).session();
      return { get: (k) => s.get(k), set: (k, v) => void s.set(k as 'n', v as number) };
    };
  }
  const handle =
    (path: string): import('express').RequestHandler =>
    async (req, res) => {
      if (path === '/idle' || !load) {
        if (path === '/read' || path === '/write')
          return void res.type('json').send(reply(USER)[1]);
        return void res.type('json').send(OK);
      }
      const s = await load(req);
      if (path === '/new') {
        s.set('user', USER);
        return void res.type('json').send(OK);
      }
      const user = s.get('user');
      if (path === '/write' && user) s.set('n', ++counter);
      const [status, body] = reply(user);
      res.status(status).type('json').send(body);
    };
  for (const path of ['/new', '/read', '/write', '/idle']) app.get(path, handle(path));
  app.post('/write', handle('/write'));
  return createServer(app);
}

// ---------- Fastify ----------

async function fastifyApp(
  c: Contender,
): Promise<{ listen(): Promise<number>; close(): Promise<void> }> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  type Bag = { get(k: 'user'): User | undefined; set(k: string, v: unknown): void };
  let load: ((req: import('fastify').FastifyRequest) => Promise<Bag>) | null = null;
  if (c.name === 'fastify-session-memory') {
    const { default: cookie } = await import('@fastify/cookie');
    const { default: session } = await import('@fastify/session');
    await app.register(cookie);
    await app.register(session, {
      store: counted(new session.MemoryStore(), CONNECT_METHODS),
      secret: SECRET,
      cookieName: COOKIE,
      saveUninitialized: false,
      cookie: { secure: false, httpOnly: true, sameSite: 'lax' },
    });
    load = async (req) => {
      const s = req.session as unknown as {
        get(k: string): unknown;
        set(k: string, v: unknown): void;
      };
      return { get: (k) => s.get(k) as User | undefined, set: (k, v) => s.set(k, v) };
    };
  } else if (c.name !== 'fastify-bare') {
    // tessera's Fastify plugin: `sessionPlugin` registered with `{ sessions }`, `request.session()`.
    const adapter = (await import(c.module!)) as {
      sessionPlugin: import('fastify').FastifyPluginAsync<{ sessions: unknown }>;
    };
    await app.register(adapter.sessionPlugin, { sessions: await tesseraSessions(c.store) });
    load = async (req) => {
      const s = await (
        req as unknown as { session(): Promise<import('../src/index.ts').Session<Data>> }
      ).session();
      return { get: (k) => s.get(k), set: (k, v) => void s.set(k as 'n', v as number) };
    };
  }
  app.get('/__calls', async (_req, reply_) => reply_.type('application/json').send(takeCalls()));
  for (const path of ['/new', '/read', '/write', '/idle']) {
    app.route({
      method: path === '/write' ? ['GET', 'POST'] : 'GET',
      url: path,
      handler: async (req, reply_) => {
        reply_.type('application/json');
        if (path === '/idle' || !load) {
          return path === '/read' || path === '/write' ? reply(USER)[1] : OK;
        }
        const s = await load(req);
        if (path === '/new') {
          s.set('user', USER);
          return OK;
        }
        const user = s.get('user');
        if (path === '/write' && user) s.set('n', ++counter);
        const [status, body] = reply(user);
        reply_.code(status);
        return body;
      },
    });
  }
  return {
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    close: () => app.close(),
  };
}

// ---------- Hono ----------

async function honoApp(c: Contender): Promise<Server> {
  const { Hono } = await import('hono');
  const { createAdaptorServer } = await import('@hono/node-server');
  const { sessionMiddleware } = await import('../src/adapters/hono.ts');
  type Env = import('../src/adapters/hono.ts').SessionEnv<Data>;
  const app = new Hono<Env>();
  const withSession = c.name !== 'hono-bare';
  if (withSession) app.use(sessionMiddleware(await tesseraSessions(c.store)));
  for (const path of ['/new', '/read', '/write', '/idle']) {
    app.on(path === '/write' ? ['GET', 'POST'] : ['GET'], path, async (ctx) => {
      const json = (status: number, body: string) =>
        ctx.body(body, status as 200, { 'content-type': 'application/json' });
      if (path === '/idle' || !withSession) {
        const [status, body] = path === '/read' || path === '/write' ? reply(USER) : [200, OK];
        return json(status, body);
      }
      const s = await ctx.var.session();
      if (path === '/new') {
        s.set('user', USER);
        return json(200, OK);
      }
      const user = s.get('user');
      if (path === '/write' && user) s.set('n', ++counter);
      return json(...reply(user));
    });
  }
  return createAdaptorServer({ fetch: app.fetch }) as Server;
}

// ---------- Koa ----------

async function koaApp(c: Contender): Promise<Server> {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  const withSession = c.name !== 'koa-bare';
  if (withSession) {
    const adapter = (await import(c.module!)) as typeof import('../src/adapters/koa.ts');
    app.use(adapter.sessionMiddleware(await tesseraSessions(c.store)));
  }
  const paths = new Set(['/new', '/read', '/write', '/idle']);
  // One handler with the routing inline: Koa has no router of its own (koa-router is a separate
  // package), and the ceiling row does the same.
  app.use(async (ctx) => {
    const path = ctx.path;
    if (
      !paths.has(path) ||
      (ctx.method !== 'GET' && !(ctx.method === 'POST' && path === '/write'))
    ) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'application/json';
    if (path === '/idle' || !withSession) {
      const [status, body] = path === '/read' || path === '/write' ? reply(USER) : [200, OK];
      ctx.status = status;
      ctx.body = body;
      return;
    }
    const s = await (
      ctx as unknown as { session(): Promise<import('../src/index.ts').Session<Data>> }
    ).session();
    if (path === '/new') {
      s.set('user', USER);
      ctx.body = OK;
      return;
    }
    const user = s.get('user');
    if (path === '/write' && user) s.set('n', ++counter);
    const [status, body] = reply(user);
    ctx.status = status;
    ctx.body = body;
  });
  return createServer(app.callback());
}

// ---------- main ----------

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function start(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const c = contenders.find((x) => x.name === name);
  if (!c)
    throw new Error(
      `unknown contender ${name}; known: ${contenders.map((x) => x.name).join(', ')}`,
    );
  let server: Server;
  switch (c.framework) {
    case 'fastify': {
      const app = await fastifyApp(c);
      return { port: await app.listen(), close: () => app.close() };
    }
    case 'express':
      server = await expressApp(c);
      break;
    case 'hono':
      server = await honoApp(c);
      break;
    case 'koa':
      server = await koaApp(c);
      break;
    default:
      server =
        c.name === 'node-bare'
          ? nodeBare()
          : c.name === 'iron-session-node'
            ? await ironSessionNode()
            : await tesseraNode(c);
  }
  // `/__calls` in front of whatever the framework does, without touching its routing.
  const listeners = server.listeners('request') as ((...args: unknown[]) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/__calls') return send(res, 200, takeCalls());
    for (const listener of listeners) listener.call(server, req, res);
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const name = process.argv[2] ?? '';
const running = await start(name);
process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
process.once('SIGTERM', async () => {
  await running.close().catch(() => undefined);
  for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
  process.exit(0);
});
