/** Conformance cases for regenerate: the move to a new key, atomic with the delta and the user index. */
import assert from 'node:assert/strict';
import { MINUTE, newKey, newUser, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** regenerate of live, concurrent-changed, destroyed and expired sessions, and its user index. */
export function regenerateCases(): StoreCase[] {
  return [
    storeCase(
      'regenerate moves a live record: delta applied, user bound, old key dead, deadlines kept',
      async (store, now) => {
        const oldKey = newKey();
        const newK = newKey();
        const user = newUser();
        const record = recordAt(now, { cart: ['a'], draft: 'x' });
        await store.create(oldKey, record);
        const later = now + 5 * MINUTE;
        const moved = await store.regenerate(
          oldKey,
          newK,
          {
            delta: {
              set: { lang: 'fr' },
              unset: ['draft'],
              ops: [{ op: 'push', key: 'cart', values: ['b'] }],
              expiresAt: later + 30 * MINUTE,
              lastSeenAt: later,
            },
            userId: user,
          },
          later,
        );
        const expected = { cart: ['a', 'b'], lang: 'fr' };
        assert.deepEqual(moved?.data, expected);
        assert.equal(moved?.userId, user);
        const got = await store.get(newK, later);
        assert.deepEqual(got?.data, expected);
        assert.equal(got?.userId, user);
        assert.equal(got?.expiresAt, later + 30 * MINUTE);
        assert.equal(got?.lastSeenAt, later);
        // The absolute deadline and the creation time are the session's, not the regenerate's.
        assert.equal(got?.createdAt, record.createdAt);
        assert.equal(got?.absoluteExpiresAt, record.absoluteExpiresAt);
        assert.deepEqual(got?.meta, record.meta);
        assert.equal(await store.get(oldKey, later), null);
        assert.equal(await store.update(oldKey, { set: { x: 1 } }, later), null);
        assert.deepEqual(
          (await store.listByUser(user, later)).map((s) => s.key),
          [newK],
        );
      },
    ),

    storeCase(
      'regenerate applies the delta to the current record: a concurrent change is kept',
      async (store, now) => {
        const oldKey = newKey();
        const newK = newKey();
        await store.create(oldKey, recordAt(now, { views: 1, cart: ['a'] }));
        // Another request changes the record after this one loaded it.
        await store.update(
          oldKey,
          { set: { other: true }, ops: [{ op: 'push', key: 'cart', values: ['b'] }] },
          now,
        );
        const moved = await store.regenerate(
          oldKey,
          newK,
          { delta: { ops: [{ op: 'increment', key: 'views', by: 1 }] }, userId: null },
          now,
        );
        const expected = { views: 2, cart: ['a', 'b'], other: true };
        assert.deepEqual(moved?.data, expected);
        assert.deepEqual((await store.get(newK, now))?.data, expected);
      },
    ),

    storeCase(
      'no resurrection: regenerate of a destroyed or expired session is null and writes nothing',
      async (store, now) => {
        const user = newUser();
        const gone = newKey();
        await store.create(gone, recordAt(now, { a: 1 }, user));
        await store.destroy(gone);
        const target = newKey();
        assert.equal(
          await store.regenerate(gone, target, { delta: { set: { b: 2 } }, userId: user }, now),
          null,
        );
        assert.equal(await store.get(target, now), null);

        const revoked = newKey();
        await store.create(revoked, recordAt(now, { a: 1 }, user));
        await store.destroyByUser(user);
        assert.equal(
          await store.regenerate(revoked, target, { delta: {}, userId: user }, now),
          null,
        );
        assert.equal(await store.get(target, now), null);

        const expired = newKey();
        const record = recordAt(now, { a: 1 }, user);
        await store.create(expired, record);
        const after = record.expiresAt;
        assert.equal(
          await store.regenerate(
            expired,
            target,
            { delta: { expiresAt: after + 30 * MINUTE }, userId: user },
            after,
          ),
          null,
        );
        assert.equal(await store.get(target, after), null);
        assert.deepEqual(await store.listByUser(user, after), []);
      },
    ),

    storeCase('regenerate follows the user index: rebinding and unbinding', async (store, now) => {
      const alice = newUser();
      const bob = newUser();
      const a1 = newKey();
      const a2 = newKey();
      const a3 = newKey();
      await store.create(a1, recordAt(now, {}, alice));
      const keep = newKey();
      await store.create(keep, recordAt(now, {}, alice));
      // Same user (a privilege change): the index names the new key instead of the old one.
      assert.notEqual(await store.regenerate(a1, a2, { delta: {}, userId: alice }, now), null);
      assert.deepEqual(
        (await store.listByUser(alice, now)).map((s) => s.key).sort(),
        [a2, keep].sort(),
      );
      // Another user: it leaves alice's list and joins bob's.
      assert.notEqual(await store.regenerate(a2, a3, { delta: {}, userId: bob }, now), null);
      assert.deepEqual(
        (await store.listByUser(alice, now)).map((s) => s.key),
        [keep],
      );
      assert.deepEqual(
        (await store.listByUser(bob, now)).map((s) => s.key),
        [a3],
      );
      // Anonymous: in nobody's list; and destroyByUser no longer reaches it.
      const a4 = newKey();
      const anon = await store.regenerate(a3, a4, { delta: {}, userId: null }, now);
      assert.equal(anon?.userId, null);
      assert.deepEqual(await store.listByUser(bob, now), []);
      assert.deepEqual(await store.destroyByUser(bob), []);
      assert.equal((await store.get(a4, now))?.userId, null);
    }),
  ];
}
