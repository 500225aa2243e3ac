import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../src/store.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { storeConformance } from '../src/testing/index.ts';

describe('memoryStore conformance', () => {
  for (const c of storeConformance({ makeStore: () => memoryStore() })) it(c.name, c.run);
});

const record = (now: number, ttl = 60_000): SessionRecord => ({
  data: { a: 1 },
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + ttl,
  absoluteExpiresAt: now + 10 * ttl,
  meta: {},
});

describe('memoryStore bounds', () => {
  it('evicts the least recently used session at maxSessions: reads count as use', async () => {
    const store = memoryStore({ maxSessions: 3, sweepInterval: 0 });
    const now = Date.now();
    for (const key of ['a', 'b', 'c']) await store.create(key, record(now));
    await store.get('a', now); // a read: a is now the most recently used
    await store.create('d', record(now));
    expect(store.size).toBe(3);
    expect(await store.get('b', now)).toBeNull();
    expect(await store.get('a', now)).not.toBeNull();
    expect(await store.get('d', now)).not.toBeNull();
    await store.close();
  });

  it('a 100 000-create cookieless flood does not evict a signed-in user who keeps using the site', async () => {
    const store = memoryStore({ maxSessions: 1000, sweepInterval: 0 });
    const now = Date.now();
    await store.create('alice', { ...record(now), userId: 'alice' });
    // A signed-in user idle through the whole flood is still evicted last, after every bot.
    await store.create('idle-bob', { ...record(now), userId: 'bob' });
    for (let i = 0; i < 100_000; i++) {
      await store.create(`bot-${i}`, record(now));
      if (i % 5000 === 0) expect(await store.get('alice', now)).not.toBeNull();
    }
    expect(store.size).toBe(1000);
    expect(await store.get('alice', now)).not.toBeNull();
    expect(await store.get('idle-bob', now)).not.toBeNull();
    expect((await store.listByUser('alice', now)).map((s) => s.key)).toEqual(['alice']);
    // Only when no anonymous session is left do signed-in ones go, least recently used first.
    const full = memoryStore({ maxSessions: 2, sweepInterval: 0 });
    await full.create('u1', { ...record(now), userId: 'u1' });
    await full.create('u2', { ...record(now), userId: 'u2' });
    await full.get('u1', now);
    await full.create('anon', record(now));
    expect(await full.get('u2', now)).toBeNull();
    expect(await full.get('u1', now)).not.toBeNull();
    await store.close();
    await full.close();
  });

  it('the background sweep removes expired sessions in chunks without parsing', async () => {
    const store = memoryStore({ sweepInterval: 5 });
    const now = Date.now();
    for (let i = 0; i < 12_000; i++) await store.create(`short-${i}`, record(now, 1));
    await store.create('live', record(now, 600_000));
    const until = Date.now() + 5000;
    while (store.size > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(store.size).toBe(1);
    expect(await store.get('live', Date.now())).not.toBeNull();
    await store.close();
  });

  it('purgeExpired of 100 000 expired sessions goes in chunks: the event loop turns meanwhile', async () => {
    const store = memoryStore({ maxSessions: 200_000, sweepInterval: 0 });
    const now = Date.now();
    for (let i = 0; i < 100_000; i++) await store.create(`dead-${i}`, record(now, 10));
    await store.create('live', record(now, 60_000));
    let ticks = 0;
    let settled = false;
    const purge = store.purgeExpired(now + 20).finally(() => {
      settled = true;
    });
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (!settled) ticks++;
    }
    expect(await purge).toBe(100_000);
    expect(ticks).toBeGreaterThan(5); // one turn per chunk of 5 000 at least
    expect(store.size).toBe(1);
    expect(await store.get('live', now + 20)).not.toBeNull();
    await store.close();
  });

  it('sweeps expired sessions before evicting live ones', async () => {
    const store = memoryStore({ maxSessions: 2, sweepInterval: 0 });
    const now = Date.now();
    await store.create('live', record(now, 60_000));
    await store.create('short', record(now, 10));
    await store.create('new', record(now + 20));
    expect(await store.get('live', now + 20)).not.toBeNull();
    expect(await store.get('new', now + 20)).not.toBeNull();
    await store.close();
  });

  it('rejects a bad bound at construction', () => {
    expect(() => memoryStore({ maxSessions: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
  });

  it('hands out copies: changing a returned record does not change the store', async () => {
    const store = memoryStore({ sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now));
    const got = await store.get('k', now);
    got!.data['a'] = 999;
    expect((await store.get('k', now))?.data['a']).toBe(1);
    // The metadata too (kept once per session, frozen, copied on every read), and what the
    // caller passed in is not kept by reference.
    const meta = { userAgent: 'Mozilla/5.0 (test)', ip: '203.0.113.7' };
    await store.create('m', { ...record(now), userId: 'ada', meta });
    meta.ip = 'changed by the caller';
    const first = await store.get('m', now);
    expect(first?.meta).toEqual({ userAgent: 'Mozilla/5.0 (test)', ip: '203.0.113.7' });
    (first!.meta as { ip?: string }).ip = 'changed by a reader';
    for (const read of [
      await store.get('m', now),
      await store.touch('m', now + 90_000, now + 1, now),
      await store.update('m', { set: { b: 2 } }, now),
      (await store.listByUser('ada', now))[0]?.record,
    ])
      expect(read?.meta).toEqual({ userAgent: 'Mozilla/5.0 (test)', ip: '203.0.113.7' });
    await store.close();
  });
});
