/** Conformance cases for deltas: set and the atomic ops (push, pull, increment), alone and concurrent. */
import assert from 'node:assert/strict';
import type { JsonValue } from '../store.ts';
import { newKey, newUser, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** Concurrent writes all kept, and what push, pull and increment do with missing and odd values. */
export function deltaOpCases(): StoreCase[] {
  return [
    storeCase('concurrent updates of different keys are all kept', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { base: true }));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.update(key, { set: { [`k${i}`]: i } }, now)),
      );
      const data = (await store.get(key, now))?.data;
      assert.equal(data?.['base'], true);
      for (let i = 0; i < 20; i++) assert.equal(data?.[`k${i}`], i, `k${i} was lost`);
    }),

    storeCase('twenty concurrent pushes to one list are all kept', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { cart: ['first'] }));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.update(key, { ops: [{ op: 'push', key: 'cart', values: [`item-${i}`] }] }, now),
        ),
      );
      const cart = (await store.get(key, now))?.data['cart'] as string[];
      assert.equal(cart.length, 21);
      assert.equal(cart[0], 'first');
      for (let i = 0; i < 20; i++) assert.ok(cart.includes(`item-${i}`), `item-${i} was lost`);
    }),

    storeCase('concurrent increments all count', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { views: 5 }));
      await Promise.all(
        Array.from({ length: 25 }, () =>
          store.update(key, { ops: [{ op: 'increment', key: 'views', by: 2 }] }, now),
        ),
      );
      assert.equal((await store.get(key, now))?.data['views'], 55);
    }),

    storeCase(
      'push: missing or non-array values become the pushed list; several values keep order',
      async (store, now) => {
        const key = newKey();
        await store.create(key, recordAt(now, { scalar: 'x' }));
        await store.update(
          key,
          {
            ops: [
              { op: 'push', key: 'fresh', values: [1, 2] },
              { op: 'push', key: 'scalar', values: [{ id: 'a' }] },
              { op: 'push', key: 'fresh', values: [3] },
            ],
          },
          now,
        );
        const data = (await store.get(key, now))?.data;
        assert.deepEqual(data?.['fresh'], [1, 2, 3]);
        assert.deepEqual(data?.['scalar'], [{ id: 'a' }]);
      },
    ),

    storeCase(
      'pull removes every equal element; missing and non-array values are unchanged',
      async (store, now) => {
        const key = newKey();
        await store.create(
          key,
          recordAt(now, { cart: ['a', 'b', 'a', 'c', 1, { id: 7 }, { id: 8 }], scalar: 's' }),
        );
        await store.update(
          key,
          {
            ops: [
              { op: 'pull', key: 'cart', values: ['a', 1, { id: 7 }] },
              { op: 'pull', key: 'missing', values: ['a'] },
              { op: 'pull', key: 'scalar', values: ['s'] },
            ],
          },
          now,
        );
        const data = (await store.get(key, now))?.data;
        assert.deepEqual(data?.['cart'], ['b', 'c', { id: 8 }]);
        assert.equal('missing' in (data ?? {}), false);
        assert.equal(data?.['scalar'], 's');
      },
    ),

    storeCase('increment: missing or non-number values count as zero', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { s: 'text' }));
      await store.update(
        key,
        {
          ops: [
            { op: 'increment', key: 'n', by: 3 },
            { op: 'increment', key: 's', by: -1.5 },
          ],
        },
        now,
      );
      const data = (await store.get(key, now))?.data;
      assert.equal(data?.['n'], 3);
      assert.equal(data?.['s'], -1.5);
    }),

    storeCase(
      'concurrent pushes and pulls on one list and sets on others all apply',
      async (store, now) => {
        const key = newKey();
        await store.create(key, recordAt(now, { cart: ['keep', 'drop'] }));
        await Promise.all([
          store.update(key, { ops: [{ op: 'pull', key: 'cart', values: ['drop'] }] }, now),
          ...Array.from({ length: 10 }, (_, i) =>
            store.update(
              key,
              { set: { [`s${i}`]: i }, ops: [{ op: 'push', key: 'cart', values: [i] }] },
              now,
            ),
          ),
        ]);
        const data = (await store.get(key, now))?.data;
        const cart = data?.['cart'] as JsonValue[];
        assert.equal(cart.includes('drop'), false);
        assert.equal(cart.length, 11);
        for (let i = 0; i < 10; i++) assert.equal(data?.[`s${i}`], i);
      },
    ),
  ];
}

/** JSON as JSON: canonical comparison in pull, key order kept, an increment past the largest number. */
export function jsonValueCases(): StoreCase[] {
  return [
    storeCase('pull compares by canonical JSON: key order does not matter', async (store, now) => {
      const key = newKey();
      await store.create(
        key,
        recordAt(now, {
          cart: [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1 }, [{ y: 1, x: 2 }], 'ab', 1],
        }),
      );
      await store.update(
        key,
        { ops: [{ op: 'pull', key: 'cart', values: [{ b: 2, a: 1 }, [{ x: 2, y: 1 }]] }] },
        now,
      );
      assert.deepEqual((await store.get(key, now))?.data['cart'], [{ a: 1 }, 'ab', 1]);
    }),

    storeCase('objects inside values keep their key order', async (store, now) => {
      const key = newKey();
      const value = { zebra: 1, apple: { z: true, a: [{ m: 1, b: 2 }] }, mid: 'x' };
      await store.create(key, recordAt(now, { v: value }));
      await store.update(
        key,
        {
          set: { w: { b: 1, a: 2 } },
          ops: [{ op: 'push', key: 'list', values: [{ y: 1, x: 2 }] }],
        },
        now,
      );
      const data = (await store.get(key, now))?.data as Record<string, JsonValue>;
      assert.equal(JSON.stringify(data['v']), JSON.stringify(value));
      assert.equal(JSON.stringify(data['w']), '{"b":1,"a":2}');
      assert.equal(JSON.stringify(data['list']), '[{"y":1,"x":2}]');
    }),

    storeCase(
      'an increment past the largest number leaves the value readable and unchanged',
      async (store, now) => {
        const key = newKey();
        const user = newUser();
        await store.create(key, recordAt(now, { n: 1e308, keep: 'x' }, user));
        await store.update(key, { ops: [{ op: 'increment', key: 'n', by: 1e308 }] }, now);
        await store.update(
          key,
          {
            ops: [
              { op: 'increment', key: 'n', by: -1e308 },
              { op: 'increment', key: 'n', by: -1e308 },
            ],
          },
          now,
        );
        const got = await store.get(key, now);
        assert.equal(got?.data['n'], -1e308);
        assert.equal((await store.listByUser(user, now)).length, 1);
        assert.deepEqual(await store.destroyByUser(user), [key]);
      },
    ),
  ];
}
