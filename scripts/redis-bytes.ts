/**
 * Issue #15: Redis bytes per session, tessera's redisStore beside connect-redis (the peer), for the
 * same session (a user id, ~130 bytes of data, a browser user agent and an IP; 5 sessions per
 * user), measured in one run on a private redis-server (so nothing else moves `used_memory`):
 *
 * - `used_memory` delta over N sessions (default 10 000), divided by N;
 * - `MEMORY USAGE` of one session's key (and, for tessera, its share of the user's index);
 * - the hash's encoding (`listpack` is the compact one).
 *
 * Run: `npm run bench:deps && node scripts/redis-bytes.ts` (connect-redis and node-redis come from
 * bench/node_modules). N=… to change the count.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { SessionRecord } from '../src/store.ts';
import { redisStore } from '../src/stores/redis.ts';

const N = Number(process.env['N'] ?? 10_000);
const PER_USER = 5;
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const IP = '203.0.113.7';

/** ~130 bytes of data as JSON, as the sessions. */
const data = () => ({
  cart: ['sku-1842', 'sku-20417'],
  lang: 'en-GB',
  theme: 'dark',
  seen: 12,
  $csrf: randomBytes(16).toString('base64url'),
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const server = spawn(
  'redis-server',
  ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
  { stdio: 'ignore' },
);
const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 3 });
for (let i = 0; ; i++) {
  try {
    await client.connect();
    break;
  } catch (err) {
    if (i > 50) throw err;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);

try {
  // --- tessera -------------------------------------------------------------------------------
  const store = redisStore({ client, prefix: 'tessera:' });
  const now = Date.now();
  const keys: string[] = [];
  const before = await used();
  for (let i = 0; i < N; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, (_, j) => {
        const key = createHash('sha256').update(randomBytes(32)).digest('base64url');
        keys.push(key);
        const record: SessionRecord = {
          data: data(),
          userId: `user-${Math.floor((i + j) / PER_USER)}`,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 3_600_000,
          absoluteExpiresAt: now + 86_400_000,
          meta: { userAgent: USER_AGENT, ip: IP },
        };
        return store.create(key, record);
      }),
    );
  }
  const tesseraTotal = (await used()) - before;
  const one = `tessera:s:{${keys[0]}}`;
  const hash = Number(await client.call('MEMORY', 'USAGE', one, 'SAMPLES', '0'));
  const encoding = await client.object('ENCODING', one);
  const indexKey = (await client.keys('tessera:u:*'))[0]!;
  const index = Number(await client.call('MEMORY', 'USAGE', indexKey, 'SAMPLES', '0'));
  await client.flushall();

  // --- connect-redis (express-session's Redis store) ------------------------------------------
  const require = createRequire(new URL('../bench/package.json', import.meta.url));
  const { RedisStore } = require('connect-redis') as typeof import('connect-redis');
  const { createClient } = require('redis') as typeof import('redis');
  const { Cookie } = require('express-session') as { Cookie: new (o: object) => object };
  const nodeRedis = createClient({ url: `redis://127.0.0.1:${port}` });
  await nodeRedis.connect();
  const peer = new RedisStore({ client: nodeRedis, prefix: 'sess:' });
  const sids: string[] = [];
  const before2 = await used();
  for (let i = 0; i < N; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, (_, j) => {
        const sid = randomBytes(24).toString('base64url'); // express-session's uid-safe(24)
        sids.push(sid);
        // What an express-session app keeps for the same session: the cookie, the user, the
        // data, and the client facts the app records itself.
        const cookie = new Cookie({
          maxAge: 3_600_000,
          httpOnly: true,
          path: '/',
          sameSite: 'lax',
        });
        const sess = {
          cookie,
          userId: `user-${Math.floor((i + j) / PER_USER)}`,
          ...data(),
          createdAt: now,
          userAgent: USER_AGENT,
          ip: IP,
        };
        return new Promise<void>((resolve, reject) =>
          peer.set(sid, sess as never, (err?: unknown) => (err ? reject(err) : resolve())),
        );
      }),
    );
  }
  const peerTotal = (await used()) - before2;
  const peerOne = Number(await client.call('MEMORY', 'USAGE', `sess:${sids[0]}`, 'SAMPLES', '0'));
  const peerEncoding = await client.object('ENCODING', `sess:${sids[0]}`);
  await nodeRedis.quit();

  const t = tesseraTotal / N;
  const p = peerTotal / N;
  console.log(
    `Redis ${(await client.info('server')).match(/redis_version:(\S+)/)![1]}, N=${N}, ${PER_USER} sessions per user`,
  );
  console.log(
    `tessera       used_memory ${t.toFixed(0)} B/session; MEMORY USAGE hash ${hash} B (${encoding}) + index ${index} B per ${PER_USER} sessions`,
  );
  console.log(
    `connect-redis used_memory ${p.toFixed(0)} B/session; MEMORY USAGE ${peerOne} B (${peerEncoding})`,
  );
  console.log(`ratio (used_memory) ${(t / p).toFixed(2)}×`);
} finally {
  client.disconnect();
  server.kill();
}
