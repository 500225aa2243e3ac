import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessions } from '../src/lifecycle/sessions.ts';
import type { SessionRecord } from '../src/store.ts';
import { redisStore } from '../src/stores/redis.ts';
import { storeConformance } from '../src/testing/index.ts';
import { REDIS_URL, redisCluster, serviceUnavailable } from './support/services.ts';

const prefix = `tessera-test-${randomBytes(4).toString('hex')}:`;
const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
client.on('error', () => {});
const unavailable = await serviceUnavailable('Redis', () => client.connect());

afterAll(async () => {
  if (!unavailable) {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
  }
  client.disconnect();
});

const record = (
  now: number,
  data: SessionRecord['data'] = {},
  userId: string | null = null,
): SessionRecord => ({
  data,
  userId,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + 60_000,
  absoluteExpiresAt: now + 600_000,
  meta: { userAgent: 'test' },
});

/**
 * How redisStore keeps cacheEntries (the conformance suite holds what they do): each a plain
 * string under a key of its own beside the records, with the lifetime asked for.
 */
async function cacheEntriesHold(store: ReturnType<typeof redisStore>, raw: Redis | Cluster) {
  const entries = store.cacheEntries;
  const k = `entry-${randomBytes(6).toString('hex')}`;
  await entries.set(k, 'Llease-a', 10_000);
  expect(await raw.type(`${prefix}c:{${k}}`)).toBe('string');
  expect(await raw.pttl(`${prefix}c:{${k}}`)).toBeGreaterThan(9_000);
  expect(await entries.replace(k, 'Llease-a', 'R{"v":1}', 60_000)).toBe(true);
  expect(await raw.pttl(`${prefix}c:{${k}}`)).toBeGreaterThan(59_000);
  // advance (cachedStore's write after a versioned primary): only over a lower version, compared
  // as numbers; a lease or a record of no known version is removed; a missing entry stays missing.
  await entries.set(k, 'V3:{"v":3}', 60_000);
  await entries.advance!(k, 2, 'V2:{"v":2}', 60_000);
  await entries.advance!(k, 3, 'V3:{"other":3}', 60_000);
  expect(await entries.get(k)).toBe('V3:{"v":3}');
  await entries.advance!(k, 10, 'V10:{"v":10}', 60_000); // "10" < "3" as text
  expect(await entries.get(k)).toBe('V10:{"v":10}');
  await entries.set(k, 'Llease-b', 10_000);
  await entries.advance!(k, 11, 'V11:{"v":11}', 60_000);
  expect(await entries.get(k)).toBeNull();
  await entries.advance!(k, 12, 'V12:{"v":12}', 60_000);
  expect(await entries.get(k)).toBeNull();
  await entries.set(k, 'R{"v":1}', 60_000);
  await entries.advance!(k, 13, 'V13:{"v":13}', 60_000);
  expect(await entries.get(k)).toBeNull();
  for (const odd of ['V', 'Vx:{}', 'V12{}']) {
    await entries.set(k, odd, 60_000); // not a versioned record: removed, never an error
    await entries.advance!(k, 14, 'V14:{}', 60_000);
    expect(await entries.get(k)).toBeNull();
  }
  // Several in one turn (one script call on a single node), in the order they were made.
  const others = [`${k}-a`, `${k}-b`];
  await Promise.all(others.map((o) => entries.set(o, 'V1:{}', 60_000)));
  await Promise.all([
    entries.advance!(others[0]!, 5, 'V5:{"v":5}', 60_000),
    entries.advance!(others[0]!, 4, 'V4:{"v":4}', 60_000),
    entries.advance!(others[1]!, 2, 'V2:{"v":2}', 60_000),
  ]);
  expect(await Promise.all(others.map((o) => entries.get(o)))).toEqual([
    'V5:{"v":5}',
    'V2:{"v":2}',
  ]);
  // A lifetime of a fraction of a ms still expires (rounded up, never "no expiry").
  await entries.set(k, 'Lshort', 0.2);
  await new Promise((r) => setTimeout(r, 20));
  expect(await entries.get(k)).toBeNull();
}

describe.skipIf(unavailable !== null)('redisStore on a single node', () => {
  describe('conformance', () => {
    for (const c of storeConformance({
      makeStore: () => redisStore({ client, prefix }),
      disposeStore: async () => {},
    })) {
      it(c.name, c.run);
    }
  });

  it('cacheEntries: plain strings beside the records, with their lifetimes', async () => {
    await cacheEntriesHold(redisStore({ client, prefix }), client);
  });

  it('a read (the hash sent back as one JSON text) returns every character as written, in names and values', async () => {
    const store = redisStore({ client, prefix });
    const now = Date.now();
    const data = {
      'quote"back\\slash/': 'a"b\\c/d',
      'nul\u0000tab\tline\n': '\u0000\u001f\u007f',
      'é日🍰': ['🍰', { ü: 'ß' }, 1.5, -0, 1e21, null, true],
      '{}': {},
      '[]': [],
      empty: '',
    };
    await store.create('chars-key', record(now, data, 'u-chars'));
    const got = await store.get('chars-key', now);
    expect(got?.data).toEqual(JSON.parse(JSON.stringify(data)));
    expect(got?.userId).toBe('u-chars');
    expect(await store.get('chars-missing', now)).toBeNull();
  });

  it('one hash per session under the hashed key, with a TTL at expiresAt; nothing left after destroy', async () => {
    const store = redisStore({ client, prefix });
    const now = Date.now();
    await store.create('layout-key', record(now, { cart: ['a'], lang: 'fr' }, 'u1'));
    const key = `${prefix}s:{layout-key}`;
    expect(await client.type(key)).toBe('hash');
    expect(await client.hget(key, 'd:cart')).toBe('["a"]');
    const expireAt = await client.pexpiretime(key);
    expect(expireAt).toBe(now + 60_000);
    await store.destroy('layout-key');
    expect(await client.exists(key)).toBe(0);
    expect(await store.listByUser('u1', now)).toEqual([]);
  });

  it('a browser user agent is kept in ≤ 64-byte pieces, so the hash stays a compact listpack; the previous layout still reads', async () => {
    const store = redisStore({ client, prefix });
    const now = Date.now();
    // 150+ bytes with multi-byte characters across the 64-byte boundaries.
    const userAgent = `Mozilla/5.0 (X11; Linux x86_64) ${'é日🍰'.repeat(12)} Chrome/126.0.0.0 Safari/537.36`;
    const r = {
      ...record(now, { cart: ['sku-1'], lang: 'fr' }, 'u-ua'),
      meta: { userAgent, ip: '2001:db8::1' },
    };
    await store.create('ua-key', r);
    const key = `${prefix}s:{ua-key}`;
    expect(await client.object('ENCODING', key)).toBe('listpack');
    const hash = await client.hgetall(key);
    const pieces = Object.keys(hash).filter((f) => f.startsWith('m:ua'));
    expect(pieces.length).toBeGreaterThan(2);
    for (const f of Object.keys(hash)) expect(Buffer.byteLength(hash[f]!)).toBeLessThanOrEqual(64);
    expect((await store.get('ua-key', now))?.meta).toEqual({ userAgent, ip: '2001:db8::1' });
    const moved = await store.regenerate('ua-key', 'ua-key-2', { delta: {}, userId: 'u-ua' }, now);
    expect(moved?.meta.userAgent).toBe(userAgent);
    // A hash written before the pieces: all the metadata as JSON in `m:meta`.
    const old = `${prefix}s:{ua-old}`;
    await client.hset(old, 'm:c', now, 'm:l', now, 'm:e', now + 60_000, 'm:a', now + 600_000);
    await client.hset(old, 'm:meta', JSON.stringify({ userAgent, ip: '203.0.113.7' }), 'd:x', '1');
    await client.pexpireat(old, now + 60_000);
    expect(await store.get('ua-old', now)).toMatchObject({
      data: { x: 1 },
      meta: { userAgent, ip: '203.0.113.7' },
    });
  });

  it('a long data value is kept in ≤ 64-byte pieces through create and every delta, so the hash stays a listpack; a whole value written before still reads and changes', async () => {
    const store = redisStore({ client, prefix });
    const now = Date.now();
    const key = `${prefix}s:{long-key}`;
    const fields = async () => await client.hgetall(key);
    const expectCompact = async () => {
      expect(await client.object('ENCODING', key)).toBe('listpack');
      for (const [f, v] of Object.entries(await fields())) {
        expect(Buffer.byteLength(f)).toBeLessThanOrEqual(64);
        expect(Buffer.byteLength(v)).toBeLessThanOrEqual(64);
      }
    };
    // The session: its 65-byte user object alone made the hash a hashtable.
    const user = { id: 'u-1042', name: 'Ada Lovelace', roles: ['reader', 'editor'] };
    expect(Buffer.byteLength(JSON.stringify(user))).toBeGreaterThan(64);
    const ua =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
    await store.create('long-key', {
      ...record(now, { user, cart: ['sku-1042', 'sku-77'], lang: 'en' }, 'u-long'),
      meta: { userAgent: ua, ip: '203.0.113.7' },
    });
    await expectCompact();
    expect((await store.get('long-key', now))?.data['user']).toEqual(user);

    // Multi-byte characters across the 64-byte marks, written by the scripts: set, push, pull.
    const note = `${'é日🍰'.repeat(20)}!`;
    const tags = Array.from({ length: 12 }, (_, i) => `tag-${i}-ünï`);
    await store.update(
      'long-key',
      { set: { note }, ops: [{ op: 'push', key: 'tags', values: tags.slice(0, 6) }] },
      now,
    );
    await store.update(
      'long-key',
      { ops: [{ op: 'push', key: 'tags', values: tags.slice(6) }] },
      now,
    );
    await expectCompact();
    let got = await store.get('long-key', now);
    expect(got?.data['note']).toBe(note);
    expect(got?.data['tags']).toEqual(tags);
    let hashOf = await fields();
    const pieces = (k: string) =>
      Object.keys(hashOf).filter((f) => f.startsWith(`p:`) && f.endsWith(`:${k}`));
    expect(pieces('tags').length).toBeGreaterThan(1); // p:1:tags, p:2:tags
    // Shrinking drops the pieces past the new end; unset drops them all.
    await store.update(
      'long-key',
      { ops: [{ op: 'pull', key: 'tags', values: tags.slice(1) }] },
      now,
    );
    hashOf = await fields();
    expect(pieces('tags')).toEqual([]);
    expect((await store.get('long-key', now))?.data['tags']).toEqual([tags[0]]);
    await store.update('long-key', { unset: ['note'] }, now);
    hashOf = await fields();
    expect(pieces('note')).toEqual([]);
    expect(Object.keys(hashOf)).not.toContain('d:note');
    // A regenerate (one script here, a copy of the fields on a Cluster) keeps the pieces whole.
    const moved = await store.regenerate(
      'long-key',
      'long-key-2',
      { delta: {}, userId: 'u-long' },
      now,
    );
    expect(moved?.data).toEqual({
      user,
      cart: ['sku-1042', 'sku-77'],
      lang: 'en',
      tags: [tags[0]],
    });

    // A hash from before the pieces: one long value whole under d:<key>.
    const old = `${prefix}s:{long-old}`;
    await client.hset(old, 'm:c', now, 'm:l', now, 'm:e', now + 60_000, 'm:a', now + 600_000);
    await client.hset(old, 'd:list', JSON.stringify(tags), 'd:user', JSON.stringify(user));
    await client.pexpireat(old, now + 60_000);
    expect((await store.get('long-old', now))?.data).toEqual({ list: tags, user });
    await store.update('long-old', { ops: [{ op: 'push', key: 'list', values: ['more'] }] }, now);
    got = await store.get('long-old', now);
    expect(got?.data).toEqual({ list: [...tags, 'more'], user });
    expect(Buffer.byteLength((await client.hget(old, 'd:list'))!)).toBeLessThanOrEqual(64);
  });

  it('the gets, and the writes, of one turn are one call each (cache entries too), each answered as a call of its own', async () => {
    let scripts = 0;
    let mgets = 0;
    const counting = new Proxy(client, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if ((name !== 'evalsha' && name !== 'mget') || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (name === 'evalsha') scripts++;
          else mgets++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = redisStore({ client: counting, prefix });
    const now = Date.now();
    await store.create('t-a', record(now, { n: 1, cart: ['x'] }));
    await store.create('t-b', record(now, { keep: true }, 'ada'));
    await store.create('t-short', { ...record(now, { old: true }), expiresAt: now + 1_000 });
    const asks: [string, number][] = [
      ['t-a', now],
      ['t-missing', now],
      ['t-b', now],
      ['t-short', now + 2_000], // expired at this get's clock
      ['t-a', now],
    ];
    const alone: unknown[] = [];
    for (const [k, at] of asks) alone.push(await store.get(k, at));
    scripts = 0;
    expect(await Promise.all(asks.map(([k, at]) => store.get(k, at)))).toEqual(alone);
    expect(scripts).toBe(1);
    scripts = 0;
    const written = await Promise.all([
      store.apply!(
        't-a',
        { set: { n: 2 }, ops: [{ op: 'push', key: 'cart', values: ['y'] }] },
        now,
      ),
      store.apply!('t-missing', { set: { n: 1 } }, now),
      store.apply!('t-a', { ops: [{ op: 'push', key: 'cart', values: ['z'] }] }, now), // again
      store.apply!('t-short', { set: { late: true } }, now + 2_000),
      store.apply!('t-b', { unset: ['keep'], expiresAt: now + 90_000, lastSeenAt: now + 3 }, now),
    ]);
    expect(scripts).toBe(1);
    expect(written).toEqual([true, false, true, false, true]);
    expect((await store.get('t-a', now))?.data).toEqual({ n: 2, cart: ['x', 'y', 'z'] });
    const b = await store.get('t-b', now);
    expect([b?.data, b?.expiresAt, b?.lastSeenAt]).toEqual([{}, now + 90_000, now + 3]);
    expect(await client.pttl(`${prefix}s:{t-b}`)).toBeGreaterThan(80_000);
    expect((await store.get('t-short', now))?.data).toEqual({ old: true });
    // A key Redis refuses (another type under a session's name) fails alone.
    await client.set(`${prefix}s:{t-bad}`, 'not a hash');
    const mixed = await Promise.allSettled([
      store.get('t-a', now),
      store.get('t-bad', now),
      store.apply!('t-bad', { set: { n: 1 } }, now),
      store.apply!('t-a', { set: { n: 3 } }, now),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(mixed[1]).toMatchObject({ reason: { code: 'ERR_SESSION_STORE_UNAVAILABLE' } });
    expect((await store.get('t-a', now))?.data['n']).toBe(3);
    // cachedStore's entries: a turn's writes are one script call (in order), its reads one MGET.
    scripts = 0;
    const entryWrites = await Promise.all([
      store.cacheEntries.set('e-1', 'Lone', 10_000),
      store.cacheEntries.set('e-2', 'Ltwo', 10_000),
      store.cacheEntries.replace('e-2', 'Ltwo', 'Rtwo', 20_000), // after the set above: lands
      store.cacheEntries.replace('e-1', 'Lother', 'Rnot', 20_000), // not the value there
    ]);
    expect(scripts).toBe(1);
    expect(entryWrites).toEqual([undefined, undefined, true, false]);
    expect(await client.pttl(`${prefix}c:{e-2}`)).toBeGreaterThan(10_000);
    mgets = 0;
    const entries = await Promise.all(['e-1', 'e-missing', 'e-2'].map(store.cacheEntries.get));
    expect(entries).toEqual(['Lone', null, 'Rtwo']);
    expect(mgets).toBe(1);
  });

  it('the per-user index drops dead sessions and expires with its longest-lived member', async () => {
    const store = redisStore({ client, prefix });
    const now = Date.now();
    const user = `user-${randomBytes(3).toString('hex')}`;
    await store.create('idx-a', record(now, {}, user));
    await store.create('idx-b', { ...record(now, {}, user), absoluteExpiresAt: now + 900_000 });
    await client.del(`${prefix}s:{idx-a}`); // as if it had expired on its own
    expect((await store.listByUser(user, now)).map((s) => s.key)).toEqual(['idx-b']);
    const indexes = await client.keys(`${prefix}u:*`);
    const sizes = await Promise.all(indexes.map((k) => client.zcard(k)));
    expect(sizes).toContain(1); // idx-a was removed from the index as it was read
    const ttls = await Promise.all(indexes.map((k) => client.pexpiretime(k)));
    expect(ttls).toContain(now + 900_000);
  });

  it('the token never reaches Redis: only the keys the manager gives', async () => {
    const store = redisStore({ client, prefix });
    await store.create('only-this-key', record(Date.now(), { a: 1 }));
    const keys = await client.keys(`${prefix}s:*`);
    expect(keys).toContain(`${prefix}s:{only-this-key}`);
  });

  it('bad options are ERR_SESSION_CONFIG', () => {
    expect(() => redisStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
    expect(() => redisStore({ client, prefix: 'a{b}' })).toThrow(/hash tags/);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

function startRedis(port: number) {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  return proc;
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

describe.skipIf(unavailable !== null)('redisStore with enableOfflineQueue: false', () => {
  it('healthCheck() and a first request right after new Redis() wait for the connection (12)', async () => {
    const fresh = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    fresh.on('error', () => {});
    const lazy = new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
    lazy.on('error', () => {});
    try {
      const sessions = createSessions({
        secrets: ['h'.repeat(32)],
        store: redisStore({ client: fresh, prefix }),
      });
      await sessions.healthCheck(); // used to fail "Stream isn't writeable and enableOfflineQueue options is false"
      const store = redisStore({ client: lazy, prefix });
      expect(await store.get('nothing-here', Date.now())).toBeNull();
    } finally {
      fresh.disconnect();
      lazy.disconnect();
    }
  });

  it('a server that never answers still fails within commandTimeout with the typed error', async () => {
    const port = await freePort();
    const dead = new Redis({ port, enableOfflineQueue: false, retryStrategy: () => 50 });
    dead.on('error', () => {});
    try {
      const store = redisStore({ client: dead, prefix, commandTimeout: 300 });
      await expect(store.ping()).rejects.toMatchObject({ code: 'ERR_SESSION_STORE_UNAVAILABLE' });
    } finally {
      dead.disconnect();
    }
  });
});

describe.skipIf(unavailable !== null)('redisStore when Redis stops and comes back', () => {
  it('typed errors within the command timeout while down, then recovery with the same client', async () => {
    const port = await freePort();
    let server = startRedis(port);
    const own = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    own.on('error', () => {});
    try {
      await waitFor(async () => (await own.connect().then(() => own.ping())) === 'PONG');
      const store = redisStore({ client: own, prefix, commandTimeout: 500 });
      const now = Date.now();
      await store.create('outage', record(now, { before: true }));
      // Redis keeps nothing on disk here, so "restart" is a new empty server: the point is
      // that the app's requests fail cleanly and the same client serves again afterwards.
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      const started = Date.now();
      await expect(store.get('outage', now)).rejects.toMatchObject({
        code: 'ERR_SESSION_STORE_UNAVAILABLE',
      });
      await expect(store.update('outage', { set: { x: 1 } }, now)).rejects.toMatchObject({
        code: 'ERR_SESSION_STORE_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(5000);
      server = startRedis(port);
      await waitFor(async () => (await own.ping()) === 'PONG');
      await store.create('after', record(Date.now(), { after: true }));
      expect((await store.get('after', Date.now()))?.data).toEqual({ after: true });
    } finally {
      own.disconnect();
      server.kill('SIGKILL');
    }
  });
});

const { cluster, unavailable: clusterUnavailable } = await redisCluster();
afterAll(async () => {
  if (!clusterUnavailable) {
    const masters = cluster.nodes('master');
    await Promise.all(
      // Best effort: after the failover test a node may be mid-restart ("Connection is closed").
      masters.map(async (node) => {
        const keys = await node.keys(`${prefix}*`).catch(() => [] as string[]);
        for (const k of keys) await cluster.del(k).catch(() => {});
      }),
    );
  }
  cluster.disconnect();
});

describe.skipIf(clusterUnavailable !== null)('redisStore on a 3-master Redis Cluster', () => {
  describe('conformance', () => {
    for (const c of storeConformance({
      makeStore: () => redisStore({ client: cluster, prefix }),
      disposeStore: async () => {},
    })) {
      it(c.name, c.run);
    }
  });

  it('cacheEntries on a Cluster: each entry one key in its own slot', async () => {
    await cacheEntriesHold(redisStore({ client: cluster, prefix }), cluster);
  });

  it('sessions spread over the masters (the hash tags do not pin everything to one slot)', async () => {
    const store = redisStore({ client: cluster, prefix });
    const now = Date.now();
    for (let i = 0; i < 30; i++) await store.create(`spread-${i}`, record(now, { i }));
    const counts = await Promise.all(
      cluster.nodes('master').map(async (n) => (await n.keys(`${prefix}s:*`)).length),
    );
    expect(counts.filter((c) => c > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('per-user calls group sessions by node, and stay exact when the slot map is wrong (keys then go one by one)', async () => {
    const store = redisStore({ client: cluster, prefix });
    const now = Date.now();
    const slots = cluster.slots;
    for (const [wrong, user] of [
      [false, 'grouped-user'],
      [true, 'misrouted-user'],
    ] as const) {
      const keys = Array.from({ length: 60 }, (_, i) => `${user}-${i}`);
      for (const [i, k] of keys.entries())
        await store.create(k, { ...record(now, { i }, user), lastSeenAt: now - 100 + i });
      // A wrong map: every slot "served" by the first master, so most keys are not local there.
      if (wrong) cluster.slots = slots.map(() => slots[0]!);
      try {
        const deleted = await store.destroyUserSurplus!(user, { keep: 3, except: keys[0]! }, now);
        expect(deleted.sort()).toEqual(keys.slice(1, -3).sort());
        expect((await store.destroyByUser(user, { except: keys[0]! })).sort()).toEqual(
          keys.slice(-3).sort(),
        );
      } finally {
        cluster.slots = slots;
      }
      expect((await store.listByUser(user, now)).map((s) => s.key)).toEqual([keys[0]!]);
    }
  });

  it('survives a failover: the master holding a session dies, its replica takes over', async () => {
    const store = redisStore({ client: cluster, prefix, commandTimeout: 1000 });
    const now = Date.now();
    await store.create('failover', record(now, { before: true }));
    const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', `${prefix}s:{failover}`));
    // Only a master with a replica can fail over. A cluster just created takes a few seconds to
    // list its replicas everywhere (gossip), so wait for this master's to appear.
    type Range = [number, number, [string, number], ...[string, number][]];
    let range: Range | undefined;
    for (let i = 0; i < 60 && !(range && range.length > 3); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      const slots = (await cluster.cluster('SLOTS')) as unknown as Range[];
      range = slots.find(([from, to]) => slot >= from && slot <= to);
    }
    expect(range?.length, 'the master holding the session has a replica').toBeGreaterThan(3);
    const port = range![2][1];
    // Restart the node later from its own files, wherever the cluster was started from.
    const node = new Redis({ port, lazyConnect: true });
    await node.connect();
    const dir = ((await node.config('GET', 'dir')) as string[])[1]!;
    const configFile = ((await node.config('GET', 'cluster-config-file')) as string[])[1]!;
    node.disconnect();
    // redis-cli rather than an ioredis client, which would retry SHUTDOWN on the dying connection.
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    try {
      // While the cluster notices (node timeout 2 s), calls fail with the typed error, quickly.
      let recovered = false;
      const deadline = Date.now() + 30_000;
      while (!recovered && Date.now() < deadline) {
        try {
          await store.update('failover', { set: { after: true } }, Date.now());
          await store.create('failover-new', record(Date.now(), { n: 1 }));
          recovered = (await store.get('failover-new', Date.now()))?.data['n'] === 1;
        } catch (err) {
          // A write that got no answer may still land: that has its own code (both are 503s).
          expect(['ERR_SESSION_STORE_UNAVAILABLE', 'ERR_SESSION_OUTCOME_UNKNOWN']).toContain(
            (err as { code?: string }).code,
          );
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      expect(recovered).toBe(true);
    } finally {
      // The node rejoins as a replica of its promoted replica (its nodes.conf is kept).
      spawnSync('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        configFile.startsWith('/') ? configFile : `${dir}/${configFile}`,
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'yes',
        '--logfile',
        `${dir}/${port}.log`,
      ]);
      // Leave the cluster whole for the next run: wait until the node is back as a replica.
      for (let i = 0; i < 40; i++) {
        const role = spawnSync('redis-cli', ['-p', String(port), 'role'], { encoding: 'utf8' });
        if (/slave|replica/.test(role.stdout) && /connected/.test(role.stdout)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }, 60_000);
});
