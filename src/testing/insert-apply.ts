/** Conformance cases for the optional store operations apply and insert. */
import assert from 'node:assert/strict';
import { MINUTE, newKey, newUser, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** apply and insert, each held only where the store offers it. */
export function insertAndApplyCases(): StoreCase[] {
  return [
    storeCase(
      'apply (when offered) writes like update, only while alive, and resolves whether it was',
      async (store, now) => {
        if (!store.apply) return;
        const key = newKey();
        assert.equal(await store.apply(key, { set: { a: 1 } }, now), false);
        assert.equal(await store.get(key, now), null, 'apply of an unknown key creates nothing');
        await store.create(key, recordAt(now, { n: 1, list: ['x'] }));
        const later = now + 1000;
        assert.equal(
          await store.apply(
            key,
            {
              set: { a: 2 },
              ops: [{ op: 'push', key: 'list', values: ['y'] }],
              expiresAt: later + 30 * MINUTE,
              lastSeenAt: later,
            },
            now,
          ),
          true,
        );
        const got = await store.get(key, now);
        assert.deepEqual(got?.data, { n: 1, list: ['x', 'y'], a: 2 });
        assert.equal(got?.lastSeenAt, later);
        await store.destroy(key);
        assert.equal(
          await store.apply(key, { set: { a: 3 } }, now),
          false,
          'a destroyed record is never written back',
        );
        assert.equal(await store.get(key, now), null);
      },
    ),

    // `insert` is optional in the contract; every store that offers it is held to these.
    storeCase('insert writes only where no live record has the key', async (store, now) => {
      if (!store.insert) return;
      const key = newKey();
      const first = recordAt(now, { likes: ['tea'] }, newUser());
      assert.equal(await store.insert(key, first, now), true);
      assert.deepEqual(await store.get(key, now), first);
      assert.equal(await store.insert(key, recordAt(now, { likes: ['cake'] }), now), false);
      assert.deepEqual(await store.get(key, now), first, 'a live record is never overwritten');
      const listed = await store.listByUser(first.userId!, now);
      assert.deepEqual(
        listed.map((s) => s.key),
        [key],
      );
    }),

    storeCase('insert replaces an expired record under the key', async (store, now) => {
      if (!store.insert) return;
      const key = newKey();
      await store.create(key, { ...recordAt(now - 60 * MINUTE, { old: true }) });
      const fresh = recordAt(now, { fresh: true });
      assert.equal(await store.insert(key, fresh, now), true);
      assert.deepEqual(await store.get(key, now), fresh);
    }),

    storeCase('of ten concurrent inserts under one key exactly one lands', async (store, now) => {
      if (!store.insert) return;
      const key = newKey();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.insert!(key, recordAt(now, { i }), now)),
      );
      assert.equal(results.filter(Boolean).length, 1, `inserts that landed: ${results}`);
      const winner = results.indexOf(true);
      assert.deepEqual((await store.get(key, now))?.data, { i: winner });
    }),
  ];
}
