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
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue, SessionRecord, SessionStore } from '../store.ts';

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

const MINUTE = 60_000;

/** A fresh hashed key, shaped like the ones the manager uses. */
function newKey(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

function newUser(): string {
  return `user-${randomBytes(6).toString('hex')}`;
}

function recordAt(
  now: number,
  data: Record<string, JsonValue> = {},
  userId: string | null = null,
): SessionRecord {
  return {
    data,
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * 60 * MINUTE,
    meta: { userAgent: 'conformance/1.0', ip: '127.0.0.1' },
  };
}

type Body = (store: SessionStore, now: number) => Promise<void>;

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
  const cases: ConformanceCase[] = [];
  const add = (name: string, body: Body) =>
    cases.push({
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
    });

  add('get of an unknown key is null', async (store, now) => {
    assert.equal(await store.get(newKey(), now), null);
  });

  add('create then get returns the record as written', async (store, now) => {
    const key = newKey();
    const record = recordAt(
      now,
      { likes: ['tea', 'cake'], n: 3, nested: { a: [1, { b: null }] } },
      newUser(),
    );
    await store.create(key, record);
    assert.deepEqual(await store.get(key, now), record);
  });

  add(
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
  );

  // `insert` is optional in the contract; every store that offers it is held to these.
  add('insert writes only where no live record has the key', async (store, now) => {
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
  });

  add('insert replaces an expired record under the key', async (store, now) => {
    if (!store.insert) return;
    const key = newKey();
    await store.create(key, { ...recordAt(now - 60 * MINUTE, { old: true }) });
    const fresh = recordAt(now, { fresh: true });
    assert.equal(await store.insert(key, fresh, now), true);
    assert.deepEqual(await store.get(key, now), fresh);
  });

  add('of ten concurrent inserts under one key exactly one lands', async (store, now) => {
    if (!store.insert) return;
    const key = newKey();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.insert!(key, recordAt(now, { i }), now)),
    );
    assert.equal(results.filter(Boolean).length, 1, `inserts that landed: ${results}`);
    const winner = results.indexOf(true);
    assert.deepEqual((await store.get(key, now))?.data, { i: winner });
  });

  add('values keep their JSON types and text (unicode, empty, large)', async (store, now) => {
    const key = newKey();
    const data: Record<string, JsonValue> = {
      text: 'héllo — 日本語 🍰 "quoted" \\ back\nslash',
      zero: 0,
      negative: -1.5,
      big: 2 ** 52,
      yes: true,
      no: false,
      nothing: null,
      emptyList: [],
      emptyObject: {},
      'key with spaces.and.dots': 'ok',
      large: 'x'.repeat(100_000),
    };
    await store.create(key, recordAt(now, data));
    assert.deepEqual((await store.get(key, now))?.data, data);
  });

  add('get at or after expiresAt is null', async (store, now) => {
    const key = newKey();
    const record = recordAt(now, { a: 1 });
    await store.create(key, record);
    assert.notEqual(await store.get(key, record.expiresAt - 1), null);
    assert.equal(await store.get(key, record.expiresAt), null);
  });

  add('update applies set and unset and keeps other keys', async (store, now) => {
    const key = newKey();
    await store.create(key, recordAt(now, { a: 1, b: 2, c: 3 }));
    const after = await store.update(key, { set: { a: 10, d: { x: 1 } }, unset: ['b'] }, now);
    assert.deepEqual(after?.data, { a: 10, c: 3, d: { x: 1 } });
    assert.deepEqual((await store.get(key, now))?.data, { a: 10, c: 3, d: { x: 1 } });
  });

  add(
    'update and touch resolve the whole record as it is after the write (incl. earlier concurrent changes)',
    async (store, now) => {
      const key = newKey();
      const user = newUser();
      const record = recordAt(now, { cart: ['a'], n: 1, keep: { z: 1, a: 2 } }, user);
      await store.create(key, record);
      // Another request's change, which this write did not load: the result holds it.
      await store.update(key, { set: { other: true } }, now);
      const later = now + MINUTE;
      const after = await store.update(
        key,
        {
          set: { lang: 'fr' },
          unset: ['n'],
          ops: [{ op: 'push', key: 'cart', values: ['b'] }],
          expiresAt: later + 30 * MINUTE,
          lastSeenAt: later,
        },
        later,
      );
      const expected: SessionRecord = {
        ...record,
        data: { cart: ['a', 'b'], keep: { z: 1, a: 2 }, other: true, lang: 'fr' },
        expiresAt: later + 30 * MINUTE,
        lastSeenAt: later,
      };
      assert.deepEqual(after, expected);
      assert.equal(JSON.stringify(after?.data['keep']), '{"z":1,"a":2}');
      assert.deepEqual(await store.get(key, later), expected);
      const touchedAt = later + MINUTE;
      const touched = await store.touch(key, touchedAt + 30 * MINUTE, touchedAt, touchedAt);
      assert.deepEqual(touched, {
        ...expected,
        expiresAt: touchedAt + 30 * MINUTE,
        lastSeenAt: touchedAt,
      });
      assert.deepEqual(await store.get(key, touchedAt), touched);
    },
  );

  add('update carries expiresAt and lastSeenAt and keeps the bound user', async (store, now) => {
    const key = newKey();
    const user = newUser();
    await store.create(key, recordAt(now, { a: 1 }, user));
    const later = now + 5 * MINUTE;
    assert.equal(
      (await store.update(key, { expiresAt: later + 30 * MINUTE, lastSeenAt: later }, later))
        ?.userId,
      user,
    );
    const got = await store.get(key, later);
    assert.equal(got?.expiresAt, later + 30 * MINUTE);
    assert.equal(got?.lastSeenAt, later);
    assert.equal(got?.userId, user);
    assert.equal(got?.createdAt, now);
  });

  add(
    'create on an existing key overwrites it whole; the user index follows',
    async (store, now) => {
      const key = newKey();
      const first = newUser();
      const second = newUser();
      await store.create(key, recordAt(now, { a: 1, old: true }, first));
      await store.create(key, recordAt(now + 1, { b: 2 }, second));
      const got = await store.get(key, now + 1);
      assert.deepEqual(got?.data, { b: 2 });
      assert.equal(got?.userId, second);
      assert.equal(got?.createdAt, now + 1);
      assert.deepEqual(await store.listByUser(first, now + 1), []);
      assert.deepEqual(
        (await store.listByUser(second, now + 1)).map((s) => s.key),
        [key],
      );
    },
  );

  add('update of an unknown key is null and creates nothing', async (store, now) => {
    const key = newKey();
    assert.equal(await store.update(key, { set: { a: 1 } }, now), null);
    assert.equal(await store.get(key, now), null);
  });

  add(
    'no resurrection: update after destroy is null and the record stays gone',
    async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { a: 1 }));
      assert.equal(await store.destroy(key), true);
      assert.equal(
        await store.update(
          key,
          { set: { b: 2 }, ops: [{ op: 'push', key: 'l', values: [1] }] },
          now,
        ),
        null,
      );
      assert.equal(await store.touch(key, now + MINUTE, now, now), null);
      assert.equal(await store.get(key, now), null);
    },
  );

  add(
    'no resurrection: a destroy racing concurrent updates leaves nothing behind',
    async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { a: 1 }));
      const writes = Array.from({ length: 10 }, (_, i) =>
        store.update(key, { set: { [`k${i}`]: i } }, now),
      );
      await Promise.all([...writes, store.destroy(key)]);
      assert.equal(await store.get(key, now), null);
      assert.equal(await store.update(key, { set: { late: true } }, now), null);
      assert.equal(await store.get(key, now), null);
    },
  );

  add('update of an expired record is null and does not revive it', async (store, now) => {
    const key = newKey();
    const record = recordAt(now, { a: 1 });
    await store.create(key, record);
    const after = record.expiresAt + 1;
    assert.equal(
      await store.update(key, { set: { b: 2 }, expiresAt: after + 30 * MINUTE }, after),
      null,
    );
    assert.equal(await store.touch(key, after + 30 * MINUTE, after, after), null);
    assert.equal(await store.get(key, after), null);
  });

  add('concurrent updates of different keys are all kept', async (store, now) => {
    const key = newKey();
    await store.create(key, recordAt(now, { base: true }));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.update(key, { set: { [`k${i}`]: i } }, now)),
    );
    const data = (await store.get(key, now))?.data;
    assert.equal(data?.['base'], true);
    for (let i = 0; i < 20; i++) assert.equal(data?.[`k${i}`], i, `k${i} was lost`);
  });

  add('twenty concurrent pushes to one list are all kept', async (store, now) => {
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
  });

  add('concurrent increments all count', async (store, now) => {
    const key = newKey();
    await store.create(key, recordAt(now, { views: 5 }));
    await Promise.all(
      Array.from({ length: 25 }, () =>
        store.update(key, { ops: [{ op: 'increment', key: 'views', by: 2 }] }, now),
      ),
    );
    assert.equal((await store.get(key, now))?.data['views'], 55);
  });

  add(
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
  );

  add(
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
  );

  add('increment: missing or non-number values count as zero', async (store, now) => {
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
  });

  add(
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
  );

  add('touch extends a live record and resolves it', async (store, now) => {
    const key = newKey();
    const record = recordAt(now, { a: 1 });
    await store.create(key, record);
    const later = now + 20 * MINUTE;
    assert.equal((await store.touch(key, later + 30 * MINUTE, later, later))?.lastSeenAt, later);
    const beyondOld = record.expiresAt + MINUTE;
    const got = await store.get(key, beyondOld);
    assert.equal(got?.expiresAt, later + 30 * MINUTE);
    assert.equal(got?.lastSeenAt, later);
    assert.deepEqual(got?.data, { a: 1 });
  });

  add('touch of an unknown key is null', async (store, now) => {
    assert.equal(await store.touch(newKey(), now + MINUTE, now, now), null);
  });

  add('destroy removes the record; a second destroy is false', async (store, now) => {
    const key = newKey();
    await store.create(key, recordAt(now, { a: 1 }));
    assert.equal(await store.destroy(key), true);
    assert.equal(await store.get(key, now), null);
    assert.equal(await store.destroy(key), false);
  });

  add(
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
  );

  add(
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
  );

  add(
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
      assert.equal(await store.regenerate(revoked, target, { delta: {}, userId: user }, now), null);
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
  );

  add('regenerate follows the user index: rebinding and unbinding', async (store, now) => {
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
  });

  add('keys are independent', async (store, now) => {
    const a = newKey();
    const b = newKey();
    await store.create(a, recordAt(now, { who: 'a' }));
    await store.create(b, recordAt(now, { who: 'b' }));
    await store.update(a, { set: { x: 1 } }, now);
    await store.destroy(b);
    assert.deepEqual((await store.get(a, now))?.data, { who: 'a', x: 1 });
    assert.equal(await store.get(b, now), null);
  });

  add('listByUser returns exactly the user’s live sessions', async (store, now) => {
    const user = newUser();
    const other = newUser();
    const keys = [newKey(), newKey(), newKey()];
    const short = { ...recordAt(now, {}, user), expiresAt: now + MINUTE };
    await store.create(keys[0]!, recordAt(now, { n: 0 }, user));
    await store.create(keys[1]!, recordAt(now, { n: 1 }, user));
    await store.create(keys[2]!, short);
    await store.create(newKey(), recordAt(now, {}, other));
    await store.create(newKey(), recordAt(now, {}, null));
    const listed = await store.listByUser(user, now);
    assert.deepEqual(listed.map((s) => s.key).sort(), [...keys].sort());
    const later = await store.listByUser(user, now + 2 * MINUTE);
    assert.deepEqual(later.map((s) => s.key).sort(), [keys[0]!, keys[1]!].sort());
    const first = later.find((s) => s.key === keys[0]);
    assert.deepEqual(first?.record.data, { n: 0 });
    assert.equal(first?.record.meta.userAgent, 'conformance/1.0');
    assert.deepEqual(await store.listByUser(newUser(), now), []);
  });

  add('listByUser follows destroys', async (store, now) => {
    const user = newUser();
    const a = newKey();
    const b = newKey();
    await store.create(a, recordAt(now, {}, user));
    await store.create(b, recordAt(now, {}, user));
    await store.destroy(a);
    assert.deepEqual(
      (await store.listByUser(user, now)).map((s) => s.key),
      [b],
    );
    await store.destroy(b);
    assert.deepEqual(await store.listByUser(user, now), []);
  });

  add('destroyByUser removes all the user’s sessions but the excepted one', async (store, now) => {
    const user = newUser();
    const other = newUser();
    const keep = newKey();
    const drop = [newKey(), newKey()];
    const otherKey = newKey();
    await store.create(keep, recordAt(now, {}, user));
    for (const key of drop) await store.create(key, recordAt(now, {}, user));
    await store.create(otherKey, recordAt(now, {}, other));
    assert.deepEqual((await store.destroyByUser(user, { except: keep })).sort(), [...drop].sort());
    for (const key of drop) assert.equal(await store.get(key, now), null);
    assert.equal(await store.update(drop[0]!, { set: { back: true } }, now), null);
    assert.notEqual(await store.get(keep, now), null);
    assert.notEqual(await store.get(otherKey, now), null);
    assert.deepEqual(await store.destroyByUser(user), [keep]);
    assert.equal(await store.get(keep, now), null);
    assert.deepEqual(await store.listByUser(user, now), []);
  });

  add('destroyByUser with keys deletes only those of the user’s sessions', async (store, now) => {
    const user = newUser();
    const other = newUser();
    const mine = [newKey(), newKey(), newKey()];
    const theirs = newKey();
    for (const key of mine) await store.create(key, recordAt(now, {}, user));
    await store.create(theirs, recordAt(now, {}, other));
    const deleted = await store.destroyByUser(user, {
      keys: [mine[0]!, mine[1]!, theirs, newKey()],
      except: mine[1]!,
    });
    assert.deepEqual(deleted, [mine[0]!]);
    assert.equal(await store.get(mine[0]!, now), null);
    assert.notEqual(await store.get(mine[1]!, now), null);
    assert.notEqual(await store.get(mine[2]!, now), null);
    assert.notEqual(await store.get(theirs, now), null);
    assert.deepEqual(await store.destroyByUser(user, { keys: [] }), []);
    assert.deepEqual(
      (await store.listByUser(user, now)).map((s) => s.key).sort(),
      [mine[1]!, mine[2]!].sort(),
    );
  });

  add(
    'a user with many sessions is listed and signed out everywhere in one call',
    async (store, now) => {
      const user = newUser();
      const keys = Array.from({ length: 200 }, newKey);
      await Promise.all(keys.map((key, i) => store.create(key, recordAt(now, { i }, user))));
      assert.equal((await store.listByUser(user, now)).length, 200);
      assert.deepEqual(
        (await store.destroyByUser(user, { except: keys[0]! })).sort(),
        keys.slice(1).sort(),
      );
      assert.deepEqual(
        (await store.listByUser(user, now)).map((s) => s.key),
        [keys[0]!],
      );
    },
  );

  add(
    'destroyUserSurplus (when offered) keeps the most recently seen and the excepted session, deletes the rest',
    async (store, now) => {
      if (!store.destroyUserSurplus) return; // the manager then lists and uses destroyByUser
      const user = newUser();
      const other = newUser();
      // Six sessions seen at now-6 … now-1 (created in shuffled order), the one logging in seen
      // first of all, one that dies idle before `at`, another user's and an anonymous one.
      const seen = [3, 1, 6, 2, 5, 4].map((ago) => ({ key: newKey(), ago }));
      for (const { key, ago } of seen)
        await store.create(key, { ...recordAt(now - 10, { ago }, user), lastSeenAt: now - ago });
      const current = newKey();
      await store.create(current, { ...recordAt(now - 10, {}, user), lastSeenAt: now - 9 });
      const dying = newKey();
      await store.create(dying, { ...recordAt(now - 10, {}, user), expiresAt: now + MINUTE });
      const theirs = newKey();
      await store.create(theirs, recordAt(now - 10, {}, other));
      const anonymous = newKey();
      await store.create(anonymous, recordAt(now - 10, {}, null));
      const at = now + 2 * MINUTE; // `dying` is dead by then, the others alive
      const byAge = [...seen].sort((a, b) => a.ago - b.ago).map((s) => s.key);
      const deleted = await store.destroyUserSurplus(user, { keep: 2, except: current }, at);
      assert.deepEqual([...deleted].sort(), byAge.slice(2).sort());
      assert.deepEqual(
        (await store.listByUser(user, at)).map((s) => s.key).sort(),
        [byAge[0]!, byAge[1]!, current].sort(),
      );
      for (const key of byAge.slice(2)) assert.equal(await store.get(key, at), null);
      assert.equal(await store.update(byAge[5]!, { set: { back: true } }, at), null);
      assert.notEqual(await store.get(theirs, at), null);
      assert.notEqual(await store.get(anonymous, at), null);
      // At or under the bound: nothing to do. keep 0: everything but the excepted one.
      assert.deepEqual(await store.destroyUserSurplus(user, { keep: 2, except: current }, at), []);
      assert.deepEqual(await store.destroyUserSurplus(user, { keep: 5 }, at), []);
      assert.deepEqual(
        (await store.destroyUserSurplus(user, { keep: 0, except: current }, at)).sort(),
        [byAge[0]!, byAge[1]!].sort(),
      );
      assert.deepEqual(
        (await store.listByUser(user, at)).map((s) => s.key),
        [current],
      );
      assert.deepEqual(await store.destroyUserSurplus(newUser(), { keep: 0 }, at), []);
    },
  );

  add(
    'destroyUserSurplus (when offered) trims a user with many sessions in one call',
    async (store, now) => {
      if (!store.destroyUserSurplus) return;
      const user = newUser();
      const keys = Array.from({ length: 300 }, newKey);
      await Promise.all(
        keys.map((key, i) =>
          store.create(key, { ...recordAt(now - 1000, { i }, user), lastSeenAt: now - 1000 + i }),
        ),
      );
      // A large bound first (stores may pick another way to find the newest), then a small one.
      const first = await store.destroyUserSurplus(user, { keep: 40, except: keys[0]! }, now);
      assert.deepEqual([...first].sort(), keys.slice(1, -40).sort());
      const deleted = await store.destroyUserSurplus(user, { keep: 4, except: keys[0]! }, now);
      assert.deepEqual([...deleted].sort(), keys.slice(-40, -4).sort());
      assert.deepEqual(
        (await store.listByUser(user, now)).map((s) => s.key).sort(),
        [keys[0]!, ...keys.slice(-4)].sort(),
      );
    },
  );

  add('pull compares by canonical JSON: key order does not matter', async (store, now) => {
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
  });

  add('objects inside values keep their key order', async (store, now) => {
    const key = newKey();
    const value = { zebra: 1, apple: { z: true, a: [{ m: 1, b: 2 }] }, mid: 'x' };
    await store.create(key, recordAt(now, { v: value }));
    await store.update(
      key,
      { set: { w: { b: 1, a: 2 } }, ops: [{ op: 'push', key: 'list', values: [{ y: 1, x: 2 }] }] },
      now,
    );
    const data = (await store.get(key, now))?.data as Record<string, JsonValue>;
    assert.equal(JSON.stringify(data['v']), JSON.stringify(value));
    assert.equal(JSON.stringify(data['w']), '{"b":1,"a":2}');
    assert.equal(JSON.stringify(data['list']), '[{"y":1,"x":2}]');
  });

  add(
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
  );

  add(
    'purgeExpired (when offered) deletes expired records and keeps live ones',
    async (store, now) => {
      if (!store.purgeExpired) return; // native-TTL stores expire on their own; get() already hides them
      const dead = newKey();
      const live = newKey();
      const user = newUser();
      await store.create(dead, { ...recordAt(now, { a: 1 }, user), expiresAt: now + MINUTE });
      await store.create(live, recordAt(now, { b: 2 }, user));
      const removed = await store.purgeExpired(now + 2 * MINUTE);
      assert.ok(removed >= 1, `purgeExpired reported ${removed}`);
      // Seen from an earlier clock the record would be alive: it is gone, not just hidden.
      assert.equal(await store.get(dead, now), null);
      assert.notEqual(await store.get(live, now + 2 * MINUTE), null);
      assert.deepEqual(
        (await store.listByUser(user, now)).map((s) => s.key),
        [live],
      );
    },
  );

  return cases;
}
