/**
 * The set-up of the cache-outage tests (test/cached-store.test.ts with leases,
 * test/cached-versions.test.ts with PostgreSQL's versions): a cachedStore whose cache is a Redis of
 * our own, which the test may stop and start, behind a real HTTP server running the test app.
 */
import { Redis } from 'ioredis';
import { createSessions } from '../../src/lifecycle/sessions.ts';
import type { SessionStore } from '../../src/store.ts';
import { cachedStore } from '../../src/stores/cached.ts';
import { redisStore } from '../../src/stores/redis.ts';
import { testApp } from './app.ts';
import { Browser, listen } from './http.ts';
import { ownRedis } from './own-servers.ts';

/** `primary` behind an own Redis (short timeouts, retried after 200 ms), served over HTTP; its log lines kept. */
export async function cacheOutageServer(primary: SessionStore, secret: string) {
  const own = await ownRedis();
  const client = new Redis(own.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => {});
  const lines: string[] = [];
  const store = cachedStore({
    primary,
    cache: redisStore({ client, commandTimeout: 500 }),
    retryAfter: 200,
    log: (line) => lines.push(line),
  });
  const sessions = createSessions({ secrets: [secret.repeat(32)], store });
  const server = await listen(testApp(sessions as never));
  return {
    own,
    client,
    lines,
    store,
    visitor: new Browser(server.url),
    async close() {
      await server.close();
      client.disconnect();
      await own.destroy();
    },
  };
}
