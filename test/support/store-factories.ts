/**
 * The real stores the reliability tests run against, each with how to reach it. A store whose
 * service is unreachable is skipped with the reason locally and fails the run under CI.
 */

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SessionStore } from '../../src/store.ts';
import { cachedStore } from '../../src/stores/cached.ts';
import { memoryStore } from '../../src/stores/memory.ts';
import { mysqlStore } from '../../src/stores/mysql.ts';
import { postgresStore } from '../../src/stores/postgres.ts';
import { redisStore } from '../../src/stores/redis.ts';
import { sqliteStore } from '../../src/stores/sqlite.ts';
import { DATABASE_URL, MYSQL_URL, REDIS_URL, serviceUnavailable } from './services.ts';

export interface StoreFactory {
  readonly name: string;
  /** `null` when usable, else why not (already handled by serviceUnavailable under CI). */
  readonly unavailable: () => Promise<string | null>;
  readonly make: () => Promise<SessionStore>;
}

export const storeFactories: StoreFactory[] = [
  {
    name: 'memory',
    unavailable: async () => null,
    make: async () => memoryStore({ sweepInterval: 0 }),
  },
  {
    name: 'sqlite',
    unavailable: async () => null,
    make: async () => sqliteStore({ path: ':memory:', sweepInterval: 0 }),
  },
  {
    name: 'postgres',
    unavailable: () =>
      serviceUnavailable('PostgreSQL', async () => {
        const client = new pg.Client({
          connectionString: DATABASE_URL,
          connectionTimeoutMillis: 3000,
        });
        await client.connect();
        await client.end();
      }),
    // Its own table per store, in a schema dropped with it: runs never collide.
    make: async () => {
      const schema = `tessera_rel_${randomBytes(4).toString('hex')}`;
      const store = postgresStore({ connectionString: DATABASE_URL, schema, sweepInterval: 0 });
      const close = store.close;
      return Object.assign(store, {
        async close() {
          await store.destroyByUser('-'); // make sure the pool exists before dropping
          const client = new pg.Client({ connectionString: DATABASE_URL });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await client.end();
          await close();
        },
      });
    },
  },
  {
    name: 'mysql',
    unavailable: () =>
      serviceUnavailable('MariaDB/MySQL', async () => {
        const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
        await c.end();
      }),
    // Its own table per store, dropped with it: runs never collide.
    make: async () => {
      const table = `tessera_rel_${randomBytes(4).toString('hex')}`;
      const store = mysqlStore({ uri: MYSQL_URL, table, sweepInterval: 0 });
      const close = store.close;
      return Object.assign(store, {
        async close() {
          await close(); // first: a reap still running would make the tables again
          const c = await mysql.createConnection({ uri: MYSQL_URL });
          await c.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_revoked\``);
          await c.end();
        },
      });
    },
  },
  {
    name: 'redis',
    unavailable: () =>
      serviceUnavailable('Redis', async () => {
        const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
        probe.on('error', () => {});
        await probe.connect();
        probe.disconnect();
      }),
    make: async () => {
      const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      const prefix = `tessera-rel-${randomBytes(4).toString('hex')}:`;
      return Object.assign(redisStore({ client, prefix }), {
        async close() {
          const keys = await client.keys(`${prefix}*`);
          if (keys.length) await client.del(...keys);
          client.disconnect();
        },
      });
    },
  },
];

// Each durable store behind each cache: the same suites, through the cache.
const byName = (name: string) => storeFactories.find((f) => f.name === name)!;
for (const [primaryName, cacheName] of [
  ['postgres', 'redis'],
  ['sqlite', 'memory'],
] as const) {
  const primary = byName(primaryName);
  const cache = byName(cacheName);
  storeFactories.push({
    name: `${primaryName} behind a ${cacheName} cache`,
    unavailable: async () => (await primary.unavailable()) ?? (await cache.unavailable()),
    make: async () =>
      cachedStore({ primary: await primary.make(), cache: await cache.make(), log: () => {} }),
  });
}
