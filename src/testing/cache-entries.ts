/** Conformance cases for the optional cacheEntries a store offers cachedStore. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MINUTE, newKey, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** Each held only where the store offers `cacheEntries`. */
export function cacheEntryCases(): StoreCase[] {
  return [
    storeCase('cacheEntries (when offered): get, set, delete', async (store) => {
      const entries = store.cacheEntries;
      if (!entries) return;
      const key = newKey();
      assert.equal(await entries.get(key), null, 'a key never set reads as missing');
      await entries.set(key, 'R{"a":1}', MINUTE);
      assert.equal(await entries.get(key), 'R{"a":1}');
      await entries.set(key, 'Lsecond', MINUTE);
      assert.equal(await entries.get(key), 'Lsecond', 'set replaces whatever is there');
      await entries.delete(key);
      assert.equal(await entries.get(key), null);
      await entries.delete(key); // deleting nothing is not an error
    }),

    storeCase('cacheEntries.replace writes only over exactly the expected value', async (store) => {
      const entries = store.cacheEntries;
      if (!entries) return;
      const key = newKey();
      assert.equal(
        await entries.replace(key, 'Llease', 'Rfill', MINUTE),
        false,
        'nothing there: no fill lands on a missing entry',
      );
      assert.equal(await entries.get(key), null);
      await entries.set(key, 'Llease', MINUTE);
      assert.equal(await entries.replace(key, 'Lother', 'Rfill', MINUTE), false);
      assert.equal(await entries.get(key), 'Llease', 'a failed replace leaves the value');
      // A prefix of the value is not the value.
      assert.equal(await entries.replace(key, 'Lleas', 'Rfill', MINUTE), false);
      assert.equal(await entries.replace(key, 'Llease', 'Rfill', MINUTE), true);
      assert.equal(await entries.get(key), 'Rfill');
    }),

    storeCase('of ten concurrent replaces of one value exactly one lands', async (store) => {
      const entries = store.cacheEntries;
      if (!entries) return;
      const key = newKey();
      await entries.set(key, 'Llease', MINUTE);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => entries.replace(key, 'Llease', `R${i}`, MINUTE)),
      );
      assert.equal(results.filter(Boolean).length, 1, `replaces that landed: ${results}`);
      assert.equal(await entries.get(key), `R${results.indexOf(true)}`);
    }),

    storeCase(
      'cacheEntries.advance (when offered) writes only over a lower version, removes anything else, and never fills a missing entry',
      async (store) => {
        const advance = store.cacheEntries?.advance;
        if (!advance) return;
        const entries = store.cacheEntries!;
        const key = newKey();
        await advance(key, 5, 'V5:{}', MINUTE);
        assert.equal(
          await entries.get(key),
          null,
          'a missing entry stays missing (a logout removed it)',
        );
        await entries.set(key, 'V9:{"n":9}', MINUTE);
        await advance(key, 9, 'V9:{"other":1}', MINUTE);
        await advance(key, 8, 'V8:{}', MINUTE);
        assert.equal(
          await entries.get(key),
          'V9:{"n":9}',
          'an equal or lower version leaves the entry',
        );
        await advance(key, 10, 'V10:{"n":10}', MINUTE);
        assert.equal(await entries.get(key), 'V10:{"n":10}', 'versions compare as numbers');
        await entries.set(key, 'Llease', MINUTE);
        await advance(key, 11, 'V11:{}', MINUTE);
        assert.equal(await entries.get(key), null, 'a lease is removed, not filled');
        await entries.set(key, 'R{}', MINUTE);
        await advance(key, 12, 'V12:{}', MINUTE);
        assert.equal(await entries.get(key), null, 'a record of no known version is removed');
      },
    ),

    storeCase('cacheEntries expire after their ttl, set or replaced', async (store) => {
      const entries = store.cacheEntries;
      if (!entries) return;
      const [a, b] = [newKey(), newKey()];
      await entries.set(a, 'Rshort', 40);
      await entries.set(b, 'Llease', MINUTE);
      assert.equal(await entries.replace(b, 'Llease', 'Rshort', 40), true);
      await sleep(120);
      assert.equal(await entries.get(a), null, 'a set entry outlives its ttl');
      assert.equal(await entries.get(b), null, 'a replaced entry outlives its new ttl');
    }),

    storeCase(
      'cacheEntries and session records under one key never touch each other',
      async (store, now) => {
        const entries = store.cacheEntries;
        if (!entries) return;
        const key = newKey();
        const record = recordAt(now, { kept: true });
        await store.create(key, record);
        await entries.set(key, 'Rsomething else', MINUTE);
        assert.deepEqual(await store.get(key, now), record);
        await entries.delete(key);
        assert.deepEqual(await store.get(key, now), record, 'deleting an entry keeps the record');
        await entries.set(key, 'Llease', MINUTE);
        await store.destroy(key);
        assert.equal(await entries.get(key), 'Llease', 'destroying the record keeps the entry');
        assert.equal(await store.get(key, now), null);
      },
    ),
  ];
}
