/**
 * An app server as its own process, for tests of several servers sharing one store. Started by
 * `startAppProcess(store)`; the store is described by a string so each process opens its own
 * connection: `sqlite:<file>`, `postgres:<schema>`, `mysql:<table>`, `redis:<prefix>`,
 * `cached:<schema>:<prefix>` (PostgreSQL behind a Redis cache).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function startAppProcess(
  store: string,
): Promise<{ url: string; stop: () => Promise<void>; child: ChildProcess }> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', store], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(m as number));
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

async function serve(spec: string): Promise<void> {
  const { createSessions } = await import('../../src/lifecycle/sessions.ts');
  const { testApp } = await import('./app.ts');
  const { createServer } = await import('node:http');
  const { DATABASE_URL, MYSQL_URL, REDIS_URL } = await import('./services.ts');
  const [kind, arg] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)];
  let store: import('../../src/store.ts').SessionStore;
  if (kind === 'sqlite') {
    const { sqliteStore } = await import('../../src/stores/sqlite.ts');
    store = sqliteStore({ path: arg, sweepInterval: 0 });
  } else if (kind === 'postgres') {
    const { postgresStore } = await import('../../src/stores/postgres.ts');
    store = postgresStore({
      connectionString: DATABASE_URL,
      schema: arg,
      sweepInterval: 0,
      poolConfig: { connectionTimeoutMillis: 1000 },
    });
  } else if (kind === 'redis') {
    const { Redis } = await import('ioredis');
    const { redisStore } = await import('../../src/stores/redis.ts');
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    client.on('error', () => {});
    store = redisStore({ client, prefix: arg, commandTimeout: 1000 });
  } else if (kind === 'mysql') {
    const { mysqlStore } = await import('../../src/stores/mysql.ts');
    store = mysqlStore({
      uri: MYSQL_URL,
      table: arg,
      sweepInterval: 0,
      poolOptions: { connectTimeout: 1000 },
    });
  } else if (kind === 'cached') {
    // cached:<postgres schema>:<redis prefix>
    const [schema, prefix] = [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)];
    const { Redis } = await import('ioredis');
    const { postgresStore } = await import('../../src/stores/postgres.ts');
    const { redisStore } = await import('../../src/stores/redis.ts');
    const { cachedStore } = await import('../../src/stores/cached.ts');
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    client.on('error', () => {});
    store = cachedStore({
      primary: postgresStore({ connectionString: DATABASE_URL, schema, sweepInterval: 0 }),
      cache: redisStore({ client, prefix, commandTimeout: 1000 }),
    });
  } else throw new Error(`unknown store ${spec}`);
  const sessions = createSessions({ secrets: ['shared-secret-of-the-cluster-0123456789'], store });
  const server = createServer(testApp(sessions as never));
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!);
