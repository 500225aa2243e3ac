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
  it('evicts the least recently written session at maxSessions', async () => {
    const store = memoryStore({ maxSessions: 3, sweepInterval: 0 });
    const now = Date.now();
    for (const key of ['a', 'b', 'c']) await store.create(key, record(now));
    await store.update('a', { set: { touched: true } }, now); // a is now the most recent
    await store.create('d', record(now));
    expect(store.size).toBe(3);
    expect(await store.get('b', now)).toBeNull();
    expect(await store.get('a', now)).not.toBeNull();
    expect(await store.get('d', now)).not.toBeNull();
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
    await store.close();
  });
});
