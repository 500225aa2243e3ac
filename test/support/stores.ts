import { expect } from 'vitest';
import type { SessionRecord, SessionStore } from '../../src/store.ts';

export type Counted = SessionStore & {
  /** Calls per method since the last `reset()`. */
  readonly calls: Record<string, number>;
  reset(): void;
  /** While true every call rejects as a driver would when its server is unreachable. */
  down: boolean;
  readonly inner: SessionStore;
};

const METHODS = [
  'get',
  'create',
  'update',
  'regenerate',
  'touch',
  'destroy',
  'listByUser',
  'destroyByUser',
  'destroyUserSurplus',
  'purgeExpired',
  'ping',
] as const;

/** Wrap a real store to count its calls and to simulate an outage. */
export function counted(inner: SessionStore): Counted {
  const calls: Record<string, number> = {};
  const wrapper = {
    calls,
    down: false,
    inner,
    reset() {
      for (const key of Object.keys(calls)) delete calls[key];
    },
    async close() {
      await inner.close?.();
    },
  } as Counted;
  for (const method of METHODS) {
    if (typeof inner[method] !== 'function') continue; // an optional method the store lacks
    (wrapper as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      calls[method] = (calls[method] ?? 0) + 1;
      if (wrapper.down)
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
          code: 'ECONNREFUSED',
        });
      return (inner[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return wrapper;
}

/** Store writes: everything that changes a record. */
export function writes(store: Counted): number {
  const c = store.calls;
  return (c['create'] ?? 0) + (c['update'] ?? 0) + (c['touch'] ?? 0) + (c['destroy'] ?? 0);
}

/** `pool` (pg's or mysql2's) as a pool whose statements are counted, and the count. */
export function countQueries<P extends { query: unknown }>(pool: P) {
  const counting = { statements: 0, pool: Object.create(pool) as P };
  counting.pool.query = ((...args: unknown[]) => {
    counting.statements++;
    return (pool.query as (...a: unknown[]) => unknown)(...args);
  }) as P['query'];
  return counting;
}

/**
 * The gets of one turn against the same gets one at a time, on an SQL store counting its
 * statements: a missing key, an expired one, one expired at its get's own clock, and two keys
 * asked twice (each asker gets its own copy). Resolves the statements the turn's gets sent.
 */
export async function getsOfOneTurn(
  store: SessionStore,
  counting: { statements: number },
): Promise<number> {
  const now = Date.now();
  const made = (at: number, data: SessionRecord['data'], userId: string | null = null) => ({
    data,
    userId,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + 60_000,
    absoluteExpiresAt: at + 600_000,
    meta: { userAgent: 'test' },
  });
  await store.create('live-a', made(now, { a: [1] }));
  await store.create('live-b', made(now, { b: [1, 'x'] }, 'ada'));
  await store.create('expired', made(now - 120_000, { old: true }));
  const asks: [string, number][] = [
    ['live-a', now],
    ['missing', now],
    ['live-b', now],
    ['expired', now],
    ['live-a', now + 61_000], // expired at this get's clock
    ['live-b', now],
    ['live-a', now], // the same row again: its own copy
  ];
  const alone: (SessionRecord | null)[] = [];
  for (const [k, at] of asks) alone.push(await store.get(k, at));
  counting.statements = 0;
  const together = await Promise.all(asks.map(([k, at]) => store.get(k, at)));
  const statements = counting.statements;
  expect(together).toEqual(alone);
  expect(together.map((r) => r?.data ?? null)).toEqual([
    { a: [1] },
    null,
    { b: [1, 'x'] },
    null,
    null,
    { b: [1, 'x'] },
    { a: [1] },
  ]);
  expect(together[6]!.data).not.toBe(together[0]!.data); // each request changes its own copy
  return statements;
}
