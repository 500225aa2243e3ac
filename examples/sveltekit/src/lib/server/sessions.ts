import { Redis } from 'ioredis';
import { createSessions, memoryStore } from 'tessera-session';
import { redisStore } from 'tessera-session/redis';

export type Data = { views: number };

// REDIS_URL: the sessions in Redis, failing at once while it is unreachable (a 503, through
// sessionError); without it, in memory.
function store() {
  const url = process.env.REDIS_URL;
  if (!url) return memoryStore();
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // tessera reports an outage once; ioredis would print every failed reconnect.
  client.on('error', () => {});
  // adapter-node's graceful shutdown waits for the event loop to empty: let the client go.
  process.once('sveltekit:shutdown', () => void client.quit());
  return redisStore({ client });
}

export const sessions = createSessions<Data>({
  secrets: [process.env.SESSION_SECRET ?? ''],
  store: store(),
  cookie: { secure: 'auto' },
});
