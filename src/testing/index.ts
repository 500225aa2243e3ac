/**
 * The store conformance suite: every behaviour of the session lifecycle that a store can
 * affect, as a list of named async cases. It is runner-agnostic (plain `node:assert`), so a
 * third-party store can run it under vitest, node:test, mocha or anything else.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { storeConformance } from 'tessera-session/testing';
 * import { memoryStore } from 'tessera-session';
 *
 * describe('memoryStore', () => {
 *   for (const c of storeConformance({ makeStore: () => memoryStore() })) it(c.name, c.run);
 * });
 * ```
 */
import type { SessionStore } from '../store.ts';
import { cacheEntryCases } from './cache-entries.ts';
import { deltaOpCases, jsonValueCases } from './deltas.ts';
import { insertAndApplyCases } from './insert-apply.ts';
import { perUserCases } from './per-user.ts';
import {
  createAndGetCases,
  keyIndependenceCases,
  purgeExpiredCases,
  touchAndDestroyCases,
  updateCases,
} from './records.ts';
import { regenerateCases } from './regenerate.ts';

/**
 * ConformanceOptions.
 *
 * @example
 * ```ts
 * storeConformance({ makeStore: () => myStore(), disposeStore: (s) => s.close!() });
 * ```
 */
export interface ConformanceOptions {
  /** Make the store one case runs against. Called once per case. */
  readonly makeStore: () => SessionStore | Promise<SessionStore>;
  /** Release it after the case; default: `store.close()`. */
  readonly disposeStore?: (store: SessionStore) => Promise<void>;
}

/**
 * One named case of the suite.
 *
 * @example
 * ```ts
 * for (const { name, run } of storeConformance({ makeStore })) test(name, run);
 * ```
 */
export interface ConformanceCase {
  readonly name: string;
  readonly run: () => Promise<void>;
}

/**
 * Build the conformance cases for a store.
 *
 * @example
 * ```ts
 * for (const c of storeConformance({ makeStore: () => redisStore({ client }) })) test(c.name, c.run);
 * ```
 */
export function storeConformance(options: ConformanceOptions): ConformanceCase[] {
  const { makeStore, disposeStore = async (store: SessionStore) => store.close?.() } = options;
  // The order the cases have always run in (a store's test output reads the same from release to
  // release), which is why some topics come in more than one part.
  const cases = [
    ...createAndGetCases(),
    ...insertAndApplyCases(),
    ...updateCases(),
    ...deltaOpCases(),
    ...touchAndDestroyCases(),
    ...regenerateCases(),
    ...keyIndependenceCases(),
    ...perUserCases(),
    ...jsonValueCases(),
    ...purgeExpiredCases(),
    ...cacheEntryCases(),
  ];
  return cases.map(({ name, body }) => ({
    name,
    run: async () => {
      const store = await makeStore();
      try {
        // Whole milliseconds near real time: stores with native TTL (Redis) expire on real time.
        await body(store, Date.now());
      } finally {
        await disposeStore(store);
      }
    },
  }));
}
