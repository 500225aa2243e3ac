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

    storeCase(
      'cacheEntries.patch (when offered) changes only the version just below, removes older or unversioned entries, and never fills a missing one',
      async (store) => {
        const patch = store.cacheEntries?.patch;
        if (!patch) return;
        const entries = store.cacheEntries!;
        const key = newKey();
        // cachedStore's layout of a versioned record, and a change as it sends one.
        const fields = '{"userId":"u:1","createdAt":1,"absoluteExpiresAt":9000000000000,"meta":{}}';
        const at = (version: number, data: object, e = 5_000_000_000_000, l = 4_000_000_000_000) =>
          `V${version}:${e}:${l}:${fields}${Object.entries(data)
            .map(([k, v]) => `\n${JSON.stringify(k)}:${JSON.stringify(v)}`)
            .join('')}`;
        const change = (times: string, unset: string[], set: Record<string, unknown>) =>
          `${times}\n${unset.map((k) => `-${JSON.stringify(k)}\n`).join('')}${Object.entries(set)
            .map(([k, v]) => `+${JSON.stringify(k)}\n${JSON.stringify(v)}\n`)
            .join('')}`;
        const dataOf = (value: string | null) => {
          const nl = value!.indexOf('\n');
          return JSON.parse(`{${nl < 0 ? '' : value!.slice(nl + 1).replaceAll('\n', ',')}}`);
        };

        await patch(key, 5, change('\n', [], { n: 1 }), MINUTE);
        assert.equal(await entries.get(key), null, 'a missing entry stays missing');

        // Keys and values that look like the text's own punctuation.
        const data = {
          'a"b': 'x,y',
          nested: { list: [1, { '}': ']' }], s: 'line\nbreak:"q"' },
          gone: true,
          'ü😀\\': 1,
        };
        await entries.set(key, at(4, data), MINUTE);
        await patch(
          key,
          5,
          change('6000000000000\n4000000000001', ['gone', 'never there'], {
            n: 1,
            'a"b': { c: [] },
            '': '',
          }),
          MINUTE,
        );
        const patched = await entries.get(key);
        assert.ok(
          patched?.startsWith(`V5:6000000000000:4000000000001:${fields}\n`),
          `version and times raised, the other fields kept: ${patched}`,
        );
        assert.deepEqual(dataOf(patched), {
          'a"b': { c: [] },
          nested: data.nested,
          'ü😀\\': 1,
          n: 1,
          '': '',
        });
        await patch(key, 5, change('\n', [], { n: 2 }), MINUTE);
        await patch(key, 4, change('\n', [], { n: 3 }), MINUTE);
        assert.equal(await entries.get(key), patched, 'an equal or lower version leaves it');
        await patch(key, 6, change('\n', ['n', 'a"b', 'nested', 'ü😀\\', ''], {}), MINUTE);
        assert.deepEqual(dataOf(await entries.get(key)), {}, 'every key removed: {}');
        await patch(key, 7, change('\n', [], { back: [1] }), MINUTE);
        assert.deepEqual(dataOf(await entries.get(key)), { back: [1] });
        assert.ok((await entries.get(key))?.startsWith('V7:6000000000000:4000000000001:'));

        await patch(key, 9, change('\n', [], { n: 9 }), MINUTE);
        assert.equal(await entries.get(key), null, 'a write missed in between: removed');
        for (const other of ['Llease', 'R{}', 'V4:{"data":{}}']) {
          await entries.set(key, other, MINUTE);
          await patch(key, 5, change('\n', [], { n: 5 }), MINUTE);
          assert.equal(await entries.get(key), null, `${other} is removed, not patched`);
        }

        await entries.set(key, at(1, {}), 40);
        await patch(key, 2, change('\n', [], { n: 2 }), 0);
        assert.deepEqual(dataOf(await entries.get(key)), { n: 2 });
        await sleep(120);
        assert.equal(await entries.get(key), null, 'ttl 0 keeps the entry’s own lifetime');
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
