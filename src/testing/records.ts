/** Conformance cases for one record: create, get, update, touch, destroy and purge. */
import assert from 'node:assert/strict';
import type { JsonValue, SessionRecord } from '../store.ts';
import { MINUTE, newKey, newUser, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** A missing key, and a record read back as written. */
export function createAndGetCases(): StoreCase[] {
  return [
    storeCase('get of an unknown key is null', async (store, now) => {
      assert.equal(await store.get(newKey(), now), null);
    }),

    storeCase('create then get returns the record as written', async (store, now) => {
      const key = newKey();
      const record = recordAt(
        now,
        { likes: ['tea', 'cake'], n: 3, nested: { a: [1, { b: null }] } },
        newUser(),
      );
      await store.create(key, record);
      assert.deepEqual(await store.get(key, now), record);
    }),
  ];
}

/** Values and deadlines as stored, updates and their results, and no resurrection of a dead record. */
export function updateCases(): StoreCase[] {
  return [
    storeCase(
      'values keep their JSON types and text (unicode, empty, large)',
      async (store, now) => {
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
      },
    ),

    storeCase('get at or after expiresAt is null', async (store, now) => {
      const key = newKey();
      const record = recordAt(now, { a: 1 });
      await store.create(key, record);
      assert.notEqual(await store.get(key, record.expiresAt - 1), null);
      assert.equal(await store.get(key, record.expiresAt), null);
    }),

    storeCase('update applies set and unset and keeps other keys', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { a: 1, b: 2, c: 3 }));
      const after = await store.update(key, { set: { a: 10, d: { x: 1 } }, unset: ['b'] }, now);
      assert.deepEqual(after?.data, { a: 10, c: 3, d: { x: 1 } });
      assert.deepEqual((await store.get(key, now))?.data, { a: 10, c: 3, d: { x: 1 } });
    }),

    storeCase(
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
    ),

    storeCase(
      'update carries expiresAt and lastSeenAt and keeps the bound user',
      async (store, now) => {
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
      },
    ),

    storeCase(
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
    ),

    storeCase('update of an unknown key is null and creates nothing', async (store, now) => {
      const key = newKey();
      assert.equal(await store.update(key, { set: { a: 1 } }, now), null);
      assert.equal(await store.get(key, now), null);
    }),

    storeCase(
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
    ),

    storeCase(
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
    ),

    storeCase('update of an expired record is null and does not revive it', async (store, now) => {
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
    }),
  ];
}

/** touch and destroy of live and unknown keys. */
export function touchAndDestroyCases(): StoreCase[] {
  return [
    storeCase('touch extends a live record and resolves it', async (store, now) => {
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
    }),

    storeCase('touch of an unknown key is null', async (store, now) => {
      assert.equal(await store.touch(newKey(), now + MINUTE, now, now), null);
    }),

    storeCase('destroy removes the record; a second destroy is false', async (store, now) => {
      const key = newKey();
      await store.create(key, recordAt(now, { a: 1 }));
      assert.equal(await store.destroy(key), true);
      assert.equal(await store.get(key, now), null);
      assert.equal(await store.destroy(key), false);
    }),
  ];
}

/** Writes to one key leave another alone. */
export function keyIndependenceCases(): StoreCase[] {
  return [
    storeCase('keys are independent', async (store, now) => {
      const a = newKey();
      const b = newKey();
      await store.create(a, recordAt(now, { who: 'a' }));
      await store.create(b, recordAt(now, { who: 'b' }));
      await store.update(a, { set: { x: 1 } }, now);
      await store.destroy(b);
      assert.deepEqual((await store.get(a, now))?.data, { who: 'a', x: 1 });
      assert.equal(await store.get(b, now), null);
    }),
  ];
}

/** The optional purgeExpired. */
export function purgeExpiredCases(): StoreCase[] {
  return [
    storeCase(
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
    ),
  ];
}
