import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  SessionConfigError,
  SessionError,
  SessionOutcomeUnknownError,
  SessionStoreError,
} from '../errors.ts';
import { type EntryWriteArgs, entryArgs, redisBatches } from '../lib/redis-batches.ts';
import { perNode } from '../lib/redis-cluster.ts';
import {
  deltaArgs,
  fromPairs,
  readRecord,
  recordFields,
  toRecord,
  writeArgs,
} from '../lib/redis-records.ts';
import { type Script, scripts } from '../lib/redis-script-table.ts';
import type { CacheEntries, SessionStore, StoredSession } from '../store.ts';

/**
 * Options of {@link redisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { client: new Redis(), prefix: 'myapp:sess:' };
 * ```
 */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client (yours: tessera never quits it). */
  readonly client: Redis | Cluster;
  /** Prefix of every key tessera writes. Default `tessera:`. */
  readonly prefix?: string;
  /**
   * Longest a store call may take before it fails with `ERR_SESSION_STORE_UNAVAILABLE`, in ms.
   * Default 2000: while Redis is down, ioredis queues commands until it reconnects; this bound
   * turns that wait into a prompt 503 instead of a hanging request. A *write* that timed out
   * fails with `ERR_SESSION_OUTCOME_UNKNOWN` instead (also a 503): Redis may still run it (a busy
   * server, or the offline queue sending it on reconnect), see docs/stores/redis.md.
   */
  readonly commandTimeout?: number;
}

/**
 * A Redis store on ioredis, for single nodes and Redis Cluster. Each session is one hash (a field
 * per key, so a delta touches only what changed) that expires by itself (`PEXPIREAT`); reads are
 * one round trip, writes one script that applies the delta only while the session is alive.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createSessions } from 'tessera-session';
 * import { redisStore } from 'tessera-session/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: redisStore({ client }) });
 * ```
 */
export function redisStore(
  options: RedisStoreOptions,
): SessionStore & { ping(): Promise<void>; readonly cacheEntries: CacheEntries } {
  const {
    client,
    prefix = 'tessera:',
    commandTimeout = 2000,
  } = options ?? ({} as RedisStoreOptions);
  if (!client || typeof (client as Redis).evalsha !== 'function') {
    throw new SessionConfigError(
      `redisStore needs { client: new Redis(url) } (or a Cluster) from the ioredis package`,
    );
  }
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new SessionConfigError(
      `redisStore: prefix must be a string without "{" or "}" (they are Redis Cluster hash tags)`,
    );
  }
  if (!Number.isFinite(commandTimeout) || commandTimeout <= 0) {
    throw new SessionConfigError(
      `redisStore: commandTimeout must be a positive number of ms; got ${commandTimeout}`,
    );
  }

  // The hash tag {…} puts everything one script touches in one cluster slot.
  const sessionKey = (key: string) => `${prefix}s:{${key}}`;
  const userKey = (userId: string) =>
    `${prefix}u:{${createHash('sha256').update(userId).digest('base64url').slice(0, 22)}}`;

  // With `enableOfflineQueue: false`, a command sent before the connection is ready fails at once
  // ("Stream isn't writeable"): the first health check or request right after `new Redis()`
  // would fail. Such calls wait for 'ready' instead (bounded by commandTimeout, as every call).
  let readyWait: Promise<void> | null = null;
  function untilReady(): Promise<void> | null {
    const c = client as unknown as {
      status: string;
      options: { enableOfflineQueue?: boolean };
      connect(): Promise<void>;
    };
    if (c.status === 'ready' || c.status === 'end' || c.options.enableOfflineQueue !== false)
      return null;
    if (c.status === 'wait') c.connect().catch(() => {}); // lazyConnect: nothing else would connect
    return (readyWait ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        readyWait = null;
        resolve();
      });
    }));
  }

  /** Store calls that change something: a timed-out one may still be applied later. */
  const WRITES = new Set([
    'create',
    'insert',
    'update',
    'regenerate',
    'touch',
    'destroy',
    'destroyByUser',
    'destroyUserSurplus',
  ]);

  async function call<T>(what: string, body: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const waiting = untilReady();
      return await Promise.race([
        waiting ? waiting.then(body) : body(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`no answer within ${commandTimeout} ms`));
          }, commandTimeout);
        }),
      ]);
    } catch (err) {
      if (err instanceof SessionError) throw err;
      const message = `redis: ${what} failed: ${(err as Error).message}`;
      // The command was sent (or sits in ioredis's offline queue) and Redis may still run it:
      // say so, so that nobody retries an increment or a push blindly.
      if (timedOut && WRITES.has(what))
        throw new SessionOutcomeUnknownError(`${message}; it may still be applied`, {
          cause: err,
        });
      throw new SessionStoreError(message, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** EVALSHA, loading the script on a node that does not have it yet (NOSCRIPT). */
  async function run(
    s: Script,
    key: string | string[],
    args: (string | number)[],
  ): Promise<unknown> {
    const keys = typeof key === 'string' ? [key] : key;
    try {
      return await client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return client.eval(s.lua, keys.length, ...keys, ...args);
    }
  }

  // A Cluster puts a session, its new key and a user's index in different slots, which one
  // script may not touch together: there, multi-key work is split per slot (see docs/stores/redis.md).
  const cluster = (client as { isCluster?: boolean }).isCluster === true;

  async function index(
    userId: string,
    key: string,
    absoluteExpiresAt: number,
    now: number,
  ): Promise<void> {
    await run(scripts.indexAdd, userKey(userId), [now, absoluteExpiresAt, key]);
  }

  // Cluster: per-user work as one script per node, not one command per session.
  const { fieldsOf, destroyOwned } = perNode({
    slots: () => (client as Cluster).slots ?? [],
    fieldsMany: (names) =>
      run(scripts.fieldsMany, names[0]!, [...names]) as Promise<(string | null)[]>,
    destroyMany: (userId, names) =>
      run(scripts.destroyMany, names[0]!, [userId, ...names]) as Promise<number[]>,
    fields: (name) => client.hmget(name, 'm:e', 'm:u', 'm:l'),
    destroy: async (userId, name) =>
      ((await run(scripts.destroy, name, [userId])) as [number, string])[0] === 1,
    sessionKey,
  });

  // cachedStore's entries: plain strings beside the hashes, under keys of their own.
  const entryKey = (key: string) => `${prefix}c:{${key}}`;
  const ms = (ttl: number) => Math.max(1, Math.ceil(ttl));
  /** One entry write (ENTRIES_WRITE's modes): with the turn's others on one node, alone on a Cluster. */
  const writeEntry = (what: string, key: string, write: EntryWriteArgs) =>
    batches
      ? batches.writeEntry(entryKey(key), write)
      : call(
          what,
          async () =>
            ((await run(scripts.entriesWrite, entryKey(key), entryArgs(write))) as number[])[0] ===
            1,
        );
  const cacheEntries: CacheEntries = {
    get: (key) =>
      batches ? batches.entry(entryKey(key)) : call('cache get', () => client.get(entryKey(key))),
    set: async (key, value, ttl) => {
      await writeEntry('cache set', key, { mode: 's', expected: '', value, ttl: ms(ttl) });
    },
    replace: (key, expected, value, ttl) =>
      writeEntry('cache replace', key, { mode: 'r', expected, value, ttl: ms(ttl) }),
    advance: async (key, version, value, ttl) => {
      await writeEntry('cache advance', key, {
        mode: 'a',
        expected: String(version),
        value,
        ttl: ms(ttl),
      });
    },
    patch: async (key, version, change, ttl) => {
      await writeEntry('cache patch', key, {
        mode: 'p',
        expected: String(version),
        value: change,
        ttl: ttl === 0 ? 0 : ms(ttl),
      });
    },
    delete: (key) =>
      call('cache delete', async () => {
        await client.del(entryKey(key));
      }),
  };

  const getOne = (key: string, now: number) =>
    call('get', async () =>
      readRecord((await run(scripts.read, sessionKey(key), [])) as string, now),
    );
  const applyOne = (key: string, args: (string | number)[]) =>
    call('update', async () => (await run(scripts.applyOnly, sessionKey(key), args)) === 1);
  // On one node, a turn's gets and writes go as one script call each (src/lib/redis-batches.ts).
  const batches = cluster
    ? null
    : redisBatches({
        call,
        readMany: (keys) => run(scripts.readMany, keys, []) as Promise<string[]>,
        applyMany: (keys, args) => run(scripts.applyMany, keys, args) as Promise<number[]>,
        getEntries: (keys) => client.mget(...keys),
        writeEntries: (keys, args) => run(scripts.entriesWrite, keys, args) as Promise<number[]>,
        sessionKey,
        getOne,
        applyOne,
      });

  return {
    cacheEntries,
    get(key, now) {
      return batches ? batches.get(key, now) : getOne(key, now);
    },
    async create(key, r) {
      await call('create', async () => {
        const previous = (await run(scripts.create, sessionKey(key), [
          r.expiresAt,
          ...recordFields(r),
        ])) as string;
        if (previous && previous !== r.userId) await client.zrem(userKey(previous), key);
        if (r.userId !== null) await index(r.userId, key, r.absoluteExpiresAt, r.lastSeenAt);
      });
    },
    async insert(key, r) {
      return call('insert', async () => {
        const written = (await run(scripts.insert, sessionKey(key), [
          r.expiresAt,
          ...recordFields(r),
        ])) as number;
        if (written === 1 && r.userId !== null)
          await index(r.userId, key, r.absoluteExpiresAt, r.lastSeenAt);
        return written === 1;
      });
    },
    async update(key, delta, now) {
      return call('update', async () => {
        const after = (await run(scripts.update, sessionKey(key), writeArgs(delta, now))) as
          | string[]
          | 0;
        return after === 0 ? null : toRecord(fromPairs(after));
      });
    },
    apply(key, delta, now) {
      // The request path's write: the hash is not sent back (~12 % of a write's CPU, bench/).
      return batches ? batches.apply(key, delta, now) : applyOne(key, writeArgs(delta, now));
    },
    async regenerate(oldKey, newKey, { delta, userId }, now) {
      return call('regenerate', async () => {
        const args = [
          now,
          delta.expiresAt ?? '',
          delta.lastSeenAt ?? '',
          userId ?? '',
          ...deltaArgs(delta),
        ];
        if (!cluster) {
          const keys = [sessionKey(oldKey), sessionKey(newKey)];
          if (userId !== null) keys.push(userKey(userId));
          const [moved, previous, pairs] = (await run(scripts.regenerate, keys, args)) as [
            number,
            string?,
            string[]?,
          ];
          if (moved !== 1) return null;
          if (previous && previous !== userId) await client.zrem(userKey(previous), oldKey);
          return toRecord(fromPairs(pairs!));
        }
        // Cluster: take the old record (alive check, delta and delete in one script on its slot),
        // then write it under the new key. Should that second write fail, the session is lost
        // (the user signs in again): it fails closed, never leaving two live copies.
        const [taken, previous, pairs] = (await run(scripts.take, sessionKey(oldKey), args)) as [
          number,
          string?,
          string[]?,
        ];
        if (taken !== 1) return null;
        const hash = fromPairs(pairs!);
        const record = toRecord(hash);
        await run(scripts.create, sessionKey(newKey), [record.expiresAt, ...pairs!]);
        if (previous) await client.zrem(userKey(previous), oldKey);
        if (userId !== null) await index(userId, newKey, record.absoluteExpiresAt, now);
        return record;
      });
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      return call('touch', async () => {
        const after = (await run(scripts.touch, sessionKey(key), [now, expiresAt, lastSeenAt])) as
          | string[]
          | 0;
        return after === 0 ? null : toRecord(fromPairs(after));
      });
    },
    async destroy(key) {
      return call('destroy', async () => {
        const [deleted, userId] = (await run(scripts.destroy, sessionKey(key), [])) as [
          number,
          string,
        ];
        if (userId) await client.zrem(userKey(userId), key);
        return deleted === 1;
      });
    },
    async listByUser(userId, now) {
      return call('listByUser', async () => {
        const idx = userKey(userId);
        if (!cluster) {
          // One round trip: the script reads every live session and cleans dead index entries.
          const flat = (await run(scripts.listUser, idx, [prefix, userId, now])) as (
            | string
            | string[]
          )[];
          const live: StoredSession[] = [];
          for (let i = 0; i + 1 < flat.length; i += 2)
            live.push({
              key: flat[i] as string,
              record: toRecord(fromPairs(flat[i + 1] as string[])),
            });
          return live;
        }
        await client.zremrangebyscore(idx, '-inf', String(now));
        const keys = await client.zrange(idx, '0', '-1');
        // All reads at once: one round trip per node, whatever the number of sessions.
        const hashes = await Promise.all(keys.map((k) => client.hgetall(sessionKey(k))));
        const live: StoredSession[] = [];
        const dead: string[] = [];
        hashes.forEach((hash, i) => {
          const alive =
            hash['m:e'] !== undefined && Number(hash['m:e']) > now && hash['m:u'] === userId;
          if (alive) live.push({ key: keys[i]!, record: toRecord(hash) });
          else dead.push(keys[i]!);
        });
        // Sessions that expired idle or were destroyed elsewhere leave the index as it is read.
        if (dead.length > 0) await client.zrem(idx, ...dead);
        return live;
      });
    },
    async destroyByUser(userId, { except, keys } = {}) {
      return call('destroyByUser', async () => {
        const idx = userKey(userId);
        if (!cluster) {
          // One script; with `keys`, only those. Records are never parsed.
          const args = [prefix, userId, except ?? '', ...(keys ?? [])];
          if (keys !== undefined && keys.length === 0) return [];
          return (await run(scripts.destroyUser, idx, args)) as string[];
        }
        const candidates = (keys ?? (await client.zrange(idx, '0', '-1'))).filter(
          (k) => k !== except,
        );
        // One script per node; each delete checks the session's owner. Whatever was not deleted
        // is gone or another user's: it leaves the index too.
        const deleted = await destroyOwned(userId, candidates);
        if (candidates.length > 0) await client.zrem(idx, ...candidates);
        return deleted;
      });
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      return call('destroyUserSurplus', async () => {
        const idx = userKey(userId);
        const kept = Math.max(0, keep);
        if (!cluster) {
          const args = [prefix, userId, except ?? '', kept, now];
          return (await run(scripts.destroySurplus, idx, args)) as string[];
        }
        // Cluster: the index, then every session's three fields at once, then every delete at
        // once (each checks the owner): four round trips per node, whatever the number of sessions.
        await client.zremrangebyscore(idx, '-inf', String(now));
        const keys = await client.zrange(idx, '0', '-1');
        const fields = await fieldsOf(keys);
        const live: [string, number][] = [];
        const dead: string[] = [];
        fields.forEach(([e, u, l], i) => {
          const k = keys[i]!;
          if (e != null && Number(e) > now && u === userId) {
            if (k !== except) live.push([k, Number(l)]);
          } else dead.push(k);
        });
        if (dead.length > 0) await client.zrem(idx, ...dead);
        if (live.length <= kept) return [];
        live.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
        const deleted = await destroyOwned(
          userId,
          live.slice(kept).map(([k]) => k),
        );
        if (deleted.length > 0) await client.zrem(idx, ...deleted);
        return deleted;
      });
    },
    async ping() {
      await call('ping', async () => {
        // A cluster answers PING per node; one node answering is enough to know the client works.
        await (client as Redis).ping();
      });
    },
  };
}
