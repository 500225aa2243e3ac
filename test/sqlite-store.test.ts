import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../src/store.ts';
import { sqliteStore } from '../src/stores/sqlite.ts';
import { storeConformance } from '../src/testing/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (now: number, data: SessionRecord['data'] = {}, ttl = 60_000): SessionRecord => ({
  data,
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + ttl,
  absoluteExpiresAt: now + 10 * ttl,
  meta: {},
});

/** `n` rows expired at `now`, written by a connection of their own in one transaction. */
function insertExpired(path: string, n: number, now: number): void {
  const bulk = new DatabaseSync(path);
  const insert = bulk.prepare(
    `INSERT INTO tessera_sessions (key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta)
     VALUES (?, '{"a":1}', NULL, ?, ?, ?, ?, '{}')`,
  );
  bulk.exec('BEGIN');
  for (let i = 0; i < n; i++) insert.run(`dead-${i}`, now - 10, now - 10, now - 5, now);
  bulk.exec('COMMIT');
  bulk.close();
}

describe('sqliteStore conformance (file)', () => {
  let n = 0;
  for (const c of storeConformance({
    makeStore: () => sqliteStore({ path: join(dir, `c${n++}.db`), sweepInterval: 0 }),
  })) {
    it(c.name, c.run);
  }
});

describe('sqliteStore conformance (:memory:)', () => {
  for (const c of storeConformance({
    makeStore: () => sqliteStore({ path: ':memory:', sweepInterval: 0 }),
  }))
    it(c.name, c.run);
});

describe('sqliteStore', () => {
  it('keys with quotes, dots, dollars and spaces are plain keys', async () => {
    const store = sqliteStore({ path: ':memory:', sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { 'a"b': 1, $x: 2, 'a.b c': 3, "it's": 4 }));
    await store.update(
      'k',
      { set: { 'a"b': 10 }, unset: ['$x'], ops: [{ op: 'push', key: "it's", values: [5] }] },
      now,
    );
    expect((await store.get('k', now))?.data).toEqual({ 'a"b': 10, 'a.b c': 3, "it's": [5] });
    await store.close();
  });

  it('apply (the request path) writes what update writes, in one statement where a JSON path can name every key', async () => {
    const store = sqliteStore({ path: ':memory:', sweepInterval: 0 });
    const now = Date.now();
    const start = { keep: 1, gone: 2, 'a.b c': 3, 'x]y[0]': 4, "it's": { deep: [1, 'two'] } };
    const deltas = [
      // One statement: every key a path can name, the deadline left alone.
      { set: { keep: 10, 'a.b c': { z: 1, a: [true, null, 'ü'] }, new: 'v' }, unset: ['gone'] },
      { set: { 'x]y[0]': 1.5 }, unset: [], ops: [] },
      // Values JSON text carries in more than one spelling: SQLite's json() reads them, the
      // store's JSON.parse must get back exactly what JSON.stringify wrote.
      {
        set: {
          big: 1e21,
          tiny: 5e-324,
          max: Number.MAX_SAFE_INTEGER + 2,
          neg: -0,
          text: 'quote " back \\ nl \n tab \t \u2028 😀 \u00e9',
          nested: { b: 1, a: [{ y: 2, x: 1 }], '': 'empty key' },
        },
      },
      // Through update's transaction: a key with a quote, a backslash, a tab; and atomic ops.
      { set: { 'q"uote': 1, 'back\\slash': 2, 'tab\tkey': 3 } },
      { ops: [{ op: 'push' as const, key: "it's", values: ['x'] }] },
      { ops: [{ op: 'increment' as const, key: 'keep', by: 5 }], set: { after: true } },
      // The deadline moves when the delta moves it.
      { set: { keep: 20 }, lastSeenAt: now + 1000, expiresAt: now + 90_000 },
    ];
    await store.create('via-apply', record(now, structuredClone(start)));
    await store.create('via-update', record(now, structuredClone(start)));
    for (const delta of deltas) {
      expect(await store.apply!('via-apply', delta, now)).toBe(true);
      await store.update('via-update', delta, now);
      const [a, u] = [await store.get('via-apply', now), await store.get('via-update', now)];
      expect(a).toEqual(u);
      // The same key order too: a session's keys come back as they were written.
      expect(Object.keys(a!.data)).toEqual(Object.keys(u!.data));
    }
    const last = await store.get('via-apply', now);
    expect(last).toMatchObject({ lastSeenAt: now + 1000, expiresAt: now + 90_000 });
    expect(last!.data).toMatchObject({ keep: 20, 'q"uote': 1, after: true, new: 'v' });
    expect(last!.data).not.toHaveProperty('gone');
    // Only while alive: a missing, an expired and a destroyed key are never written.
    expect(await store.apply!('missing', { set: { a: 1 } }, now)).toBe(false);
    await store.create('expired', record(now - 120_000, { a: 1 }));
    expect(await store.apply!('expired', { set: { a: 2 } }, now)).toBe(false);
    await store.destroy('via-update');
    expect(await store.apply!('via-update', { set: { a: 2 } }, now)).toBe(false);
    expect(await store.get('via-update', now)).toBeNull();
    await store.close();
  });

  it("apply on a signed-out user's session writes nothing, and concurrent applies from two connections all land", async () => {
    const path = join(dir, 'apply.db');
    const [a, b] = [
      sqliteStore({ path, sweepInterval: 0 }),
      sqliteStore({ path, sweepInterval: 0 }),
    ];
    const now = Date.now();
    await a.create('shared', record(now, { start: true }));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).apply!('shared', { set: { [`k${i}`]: i } }, now),
      ),
    );
    const data = (await b.get('shared', now))!.data;
    expect(Object.keys(data)).toHaveLength(41);
    expect(data).toMatchObject({ start: true, k0: 0, k39: 39 });
    await a.create('revoked', { ...record(now, { v: 1 }), userId: 'ada' });
    expect(await b.destroyByUser('ada')).toEqual(['revoked']);
    // Marked at once, the row deleted afterwards: the write is refused on either connection.
    expect(await a.apply!('revoked', { set: { v: 2 } }, now)).toBe(false);
    expect(await b.apply!('revoked', { set: { v: 3 } }, now)).toBe(false);
    expect(await a.get('revoked', now)).toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  it('group commit: a turn’s writes resolve only once committed (another connection sees each at once), and every one lands', async () => {
    const path = join(dir, 'group.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const reader = new DatabaseSync(path);
    const read = reader.prepare('SELECT data FROM tessera_sessions WHERE key = ?');
    const now = Date.now();
    const keys = Array.from({ length: 60 }, (_, i) => `g${i}`);
    // Created in one turn, then written in one turn: each resolution is checked against the file.
    const seen: boolean[] = [];
    await Promise.all(
      keys.map((k, i) =>
        store.create(k, record(now, { i })).then(() => seen.push(read.get(k) !== undefined)),
      ),
    );
    expect(seen).toEqual(keys.map(() => true));
    const landed = await Promise.all(
      keys.map((k, i) =>
        store.apply!(k, { set: { n: i * 2 } }, now).then((alive) => {
          const row = read.get(k) as { data: string } | undefined;
          return alive && JSON.parse(row!.data).n === i * 2;
        }),
      ),
    );
    expect(landed).toEqual(keys.map(() => true));
    // A touch and an apply of a missing key in the same turn: each gets its own answer.
    const [touched, missing] = await Promise.all([
      store.touch('g0', now + 120_000, now + 1, now),
      store.apply!('absent', { set: { n: 1 } }, now),
    ]);
    expect(touched?.lastSeenAt).toBe(now + 1);
    expect(missing).toBe(false);
    reader.close();
    await store.close();
  });

  it('group commit: a write that fails fails alone, and a write lock held elsewhere delays the turn’s writes without losing one', async () => {
    const path = join(dir, 'group-fail.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    const keys = Array.from({ length: 10 }, (_, i) => `f${i}`);
    await Promise.all(keys.map((k) => store.create(k, record(now, { n: 0 }))));
    const other = new DatabaseSync(path, { timeout: 0 });
    other.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON tessera_sessions WHEN old.key = 'f3'
                BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`);
    const results = await Promise.allSettled(
      keys.map((k) => store.apply!(k, { set: { n: 1 } }, now)),
    );
    expect(results[3]).toMatchObject({
      status: 'rejected',
      reason: { code: 'ERR_SESSION_STORE_UNAVAILABLE' },
    });
    for (const [i, r] of results.entries())
      if (i !== 3) expect(r).toEqual({ status: 'fulfilled', value: true });
    for (const k of keys) expect((await store.get(k, now))?.data['n']).toBe(k === 'f3' ? 0 : 1);
    other.exec('DROP TRIGGER refuse');
    // Another connection holds the write lock for 100 ms: the turn's writes wait for it.
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 100);
    const later = await Promise.all(keys.map((k) => store.apply!(k, { set: { n: 2 } }, now)));
    expect(later).toEqual(keys.map(() => true));
    for (const k of keys) expect((await store.get(k, now))?.data['n']).toBe(2);
    other.close();
    await store.close();
  });

  it('stores only the key it is given, uses WAL, and records a schema version', async () => {
    const path = join(dir, 'schema.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    await store.create('hashed-key', record(Date.now(), { a: 1 }));
    const db = new DatabaseSync(path);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(
      db
        .prepare('SELECT key FROM tessera_sessions')
        .all()
        .map((r) => r.key),
    ).toEqual(['hashed-key']);
    expect(
      db.prepare("SELECT version FROM tessera_schema WHERE name = 'tessera_sessions'").get(),
    ).toEqual({ version: 2 });
    const triggers = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tessera_sessions'",
      )
      .all();
    expect(triggers.map((t) => t.name).sort()).toEqual([
      'tessera_sessions_revoked_on_delete',
      'tessera_sessions_revoked_on_insert',
      'tessera_sessions_revoked_on_replace',
    ]);
    const indexes = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tessera_sessions'",
      )
      .all();
    expect(indexes.map((i) => i.name).sort()).toEqual([
      'tessera_sessions_expires_at',
      'tessera_sessions_user_id',
    ]);
    db.close();
    await store.close();
  });

  it('100k sessions, then purgeExpired with the injected clock removes exactly the expired ones', async () => {
    const db = new DatabaseSync(join(dir, 'bulk.db'));
    const store = sqliteStore({ database: db, sweepInterval: 0 });
    const now = Date.now();
    db.exec('BEGIN');
    for (let i = 0; i < 100_000; i++)
      await store.create(`k${i}`, record(now, { i }, i % 2 === 0 ? 1000 : 3_600_000));
    db.exec('COMMIT');
    expect(await store.purgeExpired(now + 2000)).toBe(50_000);
    expect(
      (db.prepare('SELECT count(*) AS n FROM tessera_sessions').get() as { n: number }).n,
    ).toBe(50_000);
    expect(await store.get('k1', now + 2000)).not.toBeNull();
    expect(await store.get('k0', now)).toBeNull();
    await store.close();
    expect(db.isOpen).toBe(true); // a database the caller opened stays open
    db.close();
  });

  it('a dropped table is recreated, so the store keeps working', async () => {
    const db = new DatabaseSync(':memory:');
    const store = sqliteStore({ database: db, sweepInterval: 0 });
    db.exec('DROP TABLE tessera_sessions');
    const now = Date.now();
    expect(await store.get('k', now)).toBeNull();
    await store.create('k', record(now, { a: 1 }));
    expect((await store.get('k', now))?.data).toEqual({ a: 1 });
  });

  it('without createTable, a missing table is ERR_SESSION_STORE_UNAVAILABLE with the cause', async () => {
    const store = sqliteStore({ path: ':memory:', createTable: false, sweepInterval: 0 });
    await expect(store.get('k', Date.now())).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      cause: expect.objectContaining({ message: expect.stringMatching(/no such table/) }),
    });
  });

  it('a database locked past the busy timeout is ERR_SESSION_STORE_UNAVAILABLE, then works again', async () => {
    const path = join(dir, 'locked.db');
    const store = sqliteStore({ path, busyTimeout: 100, sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { a: 1 }));
    const other = new DatabaseSync(path, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    await expect(store.update('k', { set: { a: 2 } }, now)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
    });
    other.exec('ROLLBACK');
    other.close();
    expect(await store.update('k', { set: { a: 3 } }, now)).not.toBeNull();
    expect((await store.get('k', now))?.data).toEqual({ a: 3 });
    await store.close();
  });

  it('a write lock held 3 s by another process never blocks the event loop; the write lands after', async () => {
    const path = join(dir, 'held.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    await store.create('k', record(now, { n: 0 }, 3_600_000));
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
         const db = new DatabaseSync(${JSON.stringify(path)});
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 3000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const holderExited = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    let ticks = 0;
    let settled = false;
    const write = store
      .update('k', { ops: [{ op: 'increment', key: 'n', by: 1 }] }, Date.now())
      .finally(() => {
        settled = true;
      });
    // What another request of this process does meanwhile: timers keep firing. node:sqlite's
    // own busy wait would have held the event loop for the whole 3 s (no tick at all).
    while (!settled) {
      await new Promise((r) => setTimeout(r, 10));
      if (!settled) ticks++;
    }
    expect((await write)?.data).toEqual({ n: 1 });
    expect(ticks).toBeGreaterThan(20);
    expect((await store.get('k', Date.now()))?.data['n']).toBe(1);
    await holderExited;
    await store.close();
  });

  it('purging 100 000 expired rows goes in batches: the event loop turns and another process keeps writing', async () => {
    const path = join(dir, 'purge-shared.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    await store.create('live', record(now, { items: [] }, 3_600_000));
    insertExpired(path, 100_000, now);
    // Another process writes the live session throughout, each write timed; it must never fail.
    const script = `
      const { sqliteStore } = await import(${JSON.stringify(new URL('../src/stores/sqlite.ts', import.meta.url).href)});
      const store = sqliteStore({ path: ${JSON.stringify(path)}, sweepInterval: 0 });
      let worst = 0;
      process.stdout.write('ready\\n');
      for (let i = 0; i < 150; i++) {
        const t = performance.now();
        await store.update('live', { ops: [{ op: 'push', key: 'items', values: [i] }] }, Date.now());
        worst = Math.max(worst, performance.now() - t);
        await new Promise((r) => setTimeout(r, 5));
      }
      process.stdout.write('worst ' + worst.toFixed(1) + '\\n');
      await store.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 5));
    let ticks = 0;
    let settled = false;
    const purge = store.purgeExpired(now).finally(() => {
      settled = true;
    });
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (!settled) ticks++;
    }
    expect(await purge).toBe(100_000);
    expect(ticks).toBeGreaterThan(100); // one turn of the event loop per batch at least
    expect(await exited).toBe(0);
    console.log(
      `[sqlite purge 100k] ${ticks} event-loop turns; other process ${out.trim().split('\n').at(-1)} ms`,
    );
    const items = (await store.get('live', Date.now()))?.data['items'] as number[];
    expect(items).toHaveLength(150);
    await store.close();
  }, 60_000);

  it("a purge runs on the store's thread: none of its deletes on this connection, and this process's writes keep landing", async () => {
    const path = join(dir, 'purge-thread.db');
    const database = new DatabaseSync(path);
    const store = sqliteStore({ database, sweepInterval: 0 });
    const now = Date.now();
    await store.create('live', record(now, { items: [] }, 3_600_000));
    insertExpired(path, 50_000, now);
    // total_changes() counts the rows this connection itself changed.
    const changes = () =>
      (database.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    const before = changes();
    let settled = false;
    const purge = store.purgeExpired(now).finally(() => {
      settled = true;
    });
    // This process's own writes meanwhile: each waits (on a timer) for the thread's batch.
    let writes = 0;
    while (!settled || writes < 20) {
      await store.update('live', { ops: [{ op: 'push', key: 'items', values: [writes] }] }, now);
      writes++;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await purge).toBe(50_000);
    expect(changes() - before).toBe(writes); // one row per update, none of the 50 000 deletes
    expect((await store.get('live', now))?.data['items']).toHaveLength(writes);
    expect(database.prepare('SELECT count(*) AS n FROM tessera_sessions').get()).toEqual({ n: 1 });
    await store.close();
    database.close();
  }, 60_000);

  it('a purge of a database with no file (:memory:) runs on the connection itself', async () => {
    const database = new DatabaseSync(':memory:');
    const store = sqliteStore({ database, sweepInterval: 0 });
    const now = Date.now();
    for (let i = 0; i < 500; i++)
      await store.create(`k${i}`, record(now, {}, i % 2 ? 1000 : 60_000));
    expect(await store.purgeExpired(now + 2000)).toBe(250);
    expect(database.prepare('SELECT count(*) AS n FROM tessera_sessions').get()).toEqual({
      n: 250,
    });
    await store.close();
  });

  it('signing out a user of 5 000 sessions: marked in batches with the event loop turning, gone for every call at once, the rows deleted afterwards; the kept one stays', async () => {
    const path = join(dir, 'revoke-batches.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    const bulk = new DatabaseSync(path);
    const insert = bulk.prepare(
      `INSERT INTO tessera_sessions (key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta)
       VALUES (?, '{"a":1}', ?, ?, ?, ?, ?, '{}')`,
    );
    bulk.exec('BEGIN');
    for (let i = 0; i < 5000; i++)
      insert.run(`s-${i}`, 'many', now, now, now + 60_000, now + 600_000);
    insert.run('other-user', 'someone-else', now, now, now + 60_000, now + 600_000);
    bulk.exec('COMMIT');
    // Only the listed keys: 600 of them, the kept one among them.
    const listed = Array.from({ length: 600 }, (_, i) => `s-${i}`);
    expect((await store.destroyByUser('many', { keys: listed, except: 's-7' })).sort()).toEqual(
      listed.filter((k) => k !== 's-7').sort(),
    );
    let ticks = 0;
    let settled = false;
    const revoke = store.destroyByUser('many', { except: 's-7' }).finally(() => {
      settled = true;
    });
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (!settled) ticks++;
    }
    const deleted = await revoke;
    expect(deleted).toHaveLength(4400);
    expect(new Set(deleted).size).toBe(4400);
    expect(ticks).toBeGreaterThan(1); // 4 400 keys are three batches: the loop turned between them
    // Gone for every call from the moment the revocation resolved, rows deleted or not yet.
    expect((await store.listByUser('many', now)).map((s) => s.key)).toEqual(['s-7']);
    expect(await store.get('s-4999', now)).toBeNull();
    expect(await store.touch('s-4998', now + 90_000, now, now)).toBeNull();
    expect(await store.update('s-4997', { set: { back: true } }, now)).toBeNull();
    expect(
      await store.regenerate('s-4996', 'moved', { delta: {}, userId: 'many' }, now),
    ).toBeNull();
    expect(await store.destroy('s-4995')).toBe(false);
    expect(await store.destroyByUser('many', { except: 's-7' })).toEqual([]);
    expect(await store.get('other-user', now)).not.toBeNull();
    // And the rows, with their marks, are deleted without anyone asking.
    const left = () =>
      bulk.prepare("SELECT count(*) AS n FROM tessera_sessions WHERE user_id = 'many'").get()!['n'];
    for (let i = 0; i < 100 && left() !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(left()).toBe(1);
    expect(bulk.prepare('SELECT count(*) AS n FROM tessera_sessions_revoked').get()).toEqual({
      n: 0,
    });
    bulk.close();
    await store.close();
  });

  it('a file of schema version 1 (before revocation marks) is upgraded on open and keeps its sessions', async () => {
    const path = join(dir, 'schema-v1.db');
    const v1 = new DatabaseSync(path);
    v1.exec(`CREATE TABLE tessera_sessions (key TEXT PRIMARY KEY, data TEXT NOT NULL, user_id TEXT,
      created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      absolute_expires_at INTEGER NOT NULL, meta TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX tessera_sessions_expires_at ON tessera_sessions (expires_at);
    CREATE INDEX tessera_sessions_user_id ON tessera_sessions (user_id) WHERE user_id IS NOT NULL;
    CREATE TABLE tessera_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
    INSERT INTO tessera_schema VALUES ('tessera_sessions', 1);`);
    const now = Date.now();
    v1.prepare(
      `INSERT INTO tessera_sessions VALUES ('old', '{"v":1}', 'v1-user', ?, ?, ?, ?, '{}')`,
    ).run(now, now, now + 60_000, now + 600_000);
    const store = sqliteStore({ path, sweepInterval: 0 });
    expect((await store.get('old', now))?.data).toEqual({ v: 1 });
    expect(
      v1.prepare("SELECT version FROM tessera_schema WHERE name = 'tessera_sessions'").get(),
    ).toEqual({ version: 2 });
    expect(await store.destroyByUser('v1-user')).toEqual(['old']);
    expect(await store.get('old', now)).toBeNull();
    v1.close();
    await store.close();
  });

  it('a revocation while the rows of another are being deleted gets its rows deleted too, with no sweep', async () => {
    const path = join(dir, 'revoke-overlap.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    const bulk = new DatabaseSync(path);
    const insert = bulk.prepare(
      `INSERT INTO tessera_sessions (key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta)
       VALUES (?, '{}', ?, ?, ?, ?, ?, '{}')`,
    );
    bulk.exec('BEGIN');
    for (let i = 0; i < 3000; i++)
      insert.run(`a-${i}`, 'user-a', now, now, now + 60_000, now + 600_000);
    for (let i = 0; i < 300; i++)
      insert.run(`b-${i}`, 'user-b', now, now, now + 60_000, now + 600_000);
    bulk.exec('COMMIT');
    expect(await store.destroyByUser('user-a')).toHaveLength(3000); // its rows start going
    expect(await store.destroyByUser('user-b')).toHaveLength(300); // marked meanwhile
    const left = () =>
      bulk
        .prepare(
          'SELECT (SELECT count(*) FROM tessera_sessions) + (SELECT count(*) FROM tessera_sessions_revoked) AS n',
        )
        .get()!['n'];
    for (let i = 0; i < 100 && left() !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(left()).toBe(0);
    bulk.close();
    await store.close();
  });

  it('a revoked key written again (a create, an insert over it) is a live session again, on this connection and another', async () => {
    const path = join(dir, 'revoke-rewrite.db');
    const a = sqliteStore({ path, sweepInterval: 0 });
    const b = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    const r = { ...record(now, { v: 1 }), userId: 'rewrite-user' };
    await a.create('k-create', r);
    await a.create('k-insert', r);
    // Marked, and read through another connection before the rows are deleted.
    expect((await a.destroyByUser('rewrite-user')).sort()).toEqual(['k-create', 'k-insert']);
    expect(await b.get('k-create', now)).toBeNull();
    await a.create('k-create', { ...r, data: { v: 2 } });
    expect(await a.insert!('k-insert', { ...r, data: { v: 3 } }, now)).toBe(true);
    for (const s of [a, b]) {
      expect((await s.get('k-create', now))?.data).toEqual({ v: 2 });
      expect((await s.get('k-insert', now))?.data).toEqual({ v: 3 });
    }
    expect((await b.listByUser('rewrite-user', now)).length).toBe(2);
    await new Promise((r) => setTimeout(r, 200)); // any reaping in flight is done: they stay
    expect((await a.get('k-create', now))?.data).toEqual({ v: 2 });
    await a.close();
    await b.close();
  });

  it('a user past maxSessionsPerUser: sessions already revoked do not count towards it', async () => {
    const store = sqliteStore({ path: ':memory:', sweepInterval: 0 });
    const now = Date.now();
    for (let i = 0; i < 4; i++)
      await store.create(`cap-${i}`, { ...record(now), userId: 'cap-user', lastSeenAt: now + i });
    await store.destroyByUser('cap-user', { keys: ['cap-2', 'cap-3'] });
    // Revoked: cap-2, cap-3 (the newest). Keep 2: nothing live is surplus.
    expect(await store.destroyUserSurplus!('cap-user', { keep: 2 }, now)).toEqual([]);
    expect((await store.listByUser('cap-user', now)).map((s) => s.key).sort()).toEqual([
      'cap-0',
      'cap-1',
    ]);
    await store.close();
  });

  it("checkpoints run on a thread: the connection's own are off, the file takes the log, close gives them back", async () => {
    const path = join(dir, 'checkpoint-thread.db');
    const database = new DatabaseSync(path);
    const store = sqliteStore({ database, sweepInterval: 0 });
    const setting = () =>
      (database.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
        .wal_autocheckpoint;
    expect(setting()).toBe(0);
    const before = statSync(path).size;
    const now = Date.now();
    for (let i = 0; i < 2000; i++) {
      await store.create(`k-${i}`, record(now, { note: 'x'.repeat(200) }));
    }
    // Nothing in this process checkpoints any more: the file grows only if the thread copies the log in.
    const deadline = Date.now() + 10_000;
    while (statSync(path).size <= before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statSync(path).size).toBeGreaterThan(before);
    await store.close();
    expect(setting()).toBe(1000);
    expect(database.prepare('SELECT count(*) AS n FROM tessera_sessions').get()).toEqual({
      n: 2000,
    });
    database.close();
  });

  it('two processes sharing one file keep every push', async () => {
    const path = join(dir, 'shared.db');
    const store = sqliteStore({ path, sweepInterval: 0 });
    const now = Date.now();
    await store.create('shared', record(now, { items: [] }, 3_600_000));
    const script = `
      const { sqliteStore } = await import(${JSON.stringify(new URL('../src/stores/sqlite.ts', import.meta.url).href)});
      const store = sqliteStore({ path: ${JSON.stringify(path)}, sweepInterval: 0 });
      for (let i = 0; i < 200; i++) await store.update('shared', { ops: [{ op: 'push', key: 'items', values: ['child-' + i] }] }, Date.now());
      await store.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200; i++) {
      await store.update(
        'shared',
        { ops: [{ op: 'push', key: 'items', values: [`parent-${i}`] }] },
        Date.now(),
      );
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await exited).toBe(0);
    const items = (await store.get('shared', Date.now()))?.data['items'] as string[];
    expect(items).toHaveLength(400);
    expect(new Set(items).size).toBe(400);
    await store.close();
  });

  it('eight processes opening one new file at the same moment all start (WAL switch and schema)', async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(dir, `race-${round}.db`);
      // Every child loads the module, then waits for one shared instant before opening the file.
      const script = `
        const { sqliteStore } = await import(${JSON.stringify(new URL('../src/stores/sqlite.ts', import.meta.url).href)});
        while (Date.now() < ${Date.now() + 1500});
        const store = sqliteStore({ path: ${JSON.stringify(path)}, sweepInterval: 0 });
        await store.create('k' + process.pid, { data: {}, userId: null, createdAt: 0, lastSeenAt: 0, expiresAt: Date.now() + 60000, absoluteExpiresAt: Date.now() + 60000, meta: {} });
        await store.close();`;
      const codes = await Promise.all(
        Array.from({ length: 8 }, () => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          return new Promise<number | null>((resolve) => child.on('exit', resolve));
        }),
      );
      expect(codes).toEqual(Array(8).fill(0));
      const check = new DatabaseSync(path);
      expect(check.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      expect(check.prepare('SELECT count(*) AS n FROM tessera_sessions').get()).toEqual({ n: 8 });
      check.close();
    }
  });

  it('bad options are ERR_SESSION_CONFIG at construction', () => {
    expect(() => sqliteStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
    expect(() => sqliteStore({ path: ':memory:', table: 'x; DROP TABLE y' })).toThrow(
      /plain SQL identifier/,
    );
    expect(() => sqliteStore({ path: join(dir, 'no/such/dir/x.db') })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
  });
});
