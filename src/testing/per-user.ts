/** Conformance cases for the per-user index: listByUser, destroyByUser and the optional destroyUserSurplus. */
import assert from 'node:assert/strict';
import { MINUTE, newKey, newUser, recordAt, type StoreCase, storeCase } from './helpers.ts';

/** Listing and signing out a user's sessions, and trimming them to a bound. */
export function perUserCases(): StoreCase[] {
  return [
    storeCase('listByUser returns exactly the user’s live sessions', async (store, now) => {
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
    }),

    storeCase('listByUser follows destroys', async (store, now) => {
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
    }),

    storeCase(
      'destroyByUser removes all the user’s sessions but the excepted one',
      async (store, now) => {
        const user = newUser();
        const other = newUser();
        const keep = newKey();
        const drop = [newKey(), newKey()];
        const otherKey = newKey();
        await store.create(keep, recordAt(now, {}, user));
        for (const key of drop) await store.create(key, recordAt(now, {}, user));
        await store.create(otherKey, recordAt(now, {}, other));
        assert.deepEqual(
          (await store.destroyByUser(user, { except: keep })).sort(),
          [...drop].sort(),
        );
        for (const key of drop) assert.equal(await store.get(key, now), null);
        assert.equal(await store.update(drop[0]!, { set: { back: true } }, now), null);
        assert.notEqual(await store.get(keep, now), null);
        assert.notEqual(await store.get(otherKey, now), null);
        assert.deepEqual(await store.destroyByUser(user), [keep]);
        assert.equal(await store.get(keep, now), null);
        assert.deepEqual(await store.listByUser(user, now), []);
      },
    ),

    storeCase(
      'destroyByUser with keys deletes only those of the user’s sessions',
      async (store, now) => {
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
      },
    ),

    storeCase(
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
    ),

    storeCase(
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
        assert.deepEqual(
          await store.destroyUserSurplus(user, { keep: 2, except: current }, at),
          [],
        );
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
    ),

    storeCase(
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
        // A bound just under the count (a login at the cap: stores may look for the few oldest
        // instead), a large bound (or sort everything), then a small one.
        const atCap = await store.destroyUserSurplus(user, { keep: 290, except: keys[0]! }, now);
        assert.deepEqual([...atCap].sort(), keys.slice(1, 10).sort());
        const first = await store.destroyUserSurplus(user, { keep: 40, except: keys[0]! }, now);
        assert.deepEqual([...first].sort(), keys.slice(10, -40).sort());
        const deleted = await store.destroyUserSurplus(user, { keep: 4, except: keys[0]! }, now);
        assert.deepEqual([...deleted].sort(), keys.slice(-40, -4).sort());
        assert.deepEqual(
          (await store.listByUser(user, now)).map((s) => s.key).sort(),
          [keys[0]!, ...keys.slice(-4)].sort(),
        );
      },
    ),
  ];
}
