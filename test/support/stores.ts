import type { SessionStore } from '../../src/store.ts';

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
