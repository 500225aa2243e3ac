import type { StatementSync } from 'node:sqlite';
import { SessionConfigError, SessionError, SessionStoreError } from '../errors.ts';
import { requireNode } from '../lib/node-version.ts';
import { applyDelta } from '../lib/ops.ts';
import { rowValues } from '../lib/row.ts';
import { singleFlight } from '../lib/single-flight.ts';
import { groupCommit } from '../lib/sqlite-group-commit.ts';
import { SQLITE_SCHEMA_VERSION, sqliteSchema } from '../lib/sqlite-schema.ts';
import {
  PURGE_BATCH,
  purgeSql,
  type Row,
  reapSql,
  sqliteApply,
  sqliteStatements,
  toRecord,
  USER_BATCH,
} from '../lib/sqlite-statements.ts';
import { scheduleSweep } from '../lib/sweep.ts';
import type { SessionDelta, SessionRecord, SessionStore, StoredSession } from '../store.ts';
import { type Checkpointer, startCheckpointer, ThreadPurgeError } from './sqlite-checkpoint.ts';

// Loaded after a version check (not a static import) so Node 20 gets one clear line instead of
// "No such built-in module: node:sqlite".
requireNode('tessera-session/sqlite (node:sqlite)');
const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
type DatabaseSync = import('node:sqlite').DatabaseSync;

/**
 * Options of {@link sqliteStore}. Give `path` or `database`.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { path: './data/sessions.db', sweepInterval: 60_000 };
 * ```
 */
export interface SqliteStoreOptions {
  /** Database file (created if missing; its folder must exist), or `':memory:'`. */
  readonly path?: string;
  /** An open `DatabaseSync` to use instead (tessera will not close it). */
  readonly database?: DatabaseSync;
  /** Table name. Default `tessera_sessions`. */
  readonly table?: string;
  /** Create the table and indexes when missing. Default `true`; `false` if you manage the schema (see {@link sqliteSchema}). */
  readonly createTable?: boolean;
  /**
   * How long a call waits for another process's lock before failing with
   * `ERR_SESSION_STORE_UNAVAILABLE`, in ms. Default 5000. The wait is asynchronous (SQLite is asked
   * not to wait, and a busy statement is retried on a timer, 1 ms then doubling up to 16 ms), so a
   * lock held elsewhere delays only the requests that write, never the event loop.
   */
  readonly busyTimeout?: number;
  /**
   * Background purge of expired rows, in ms (± 10 % jitter, `unref`'d). Default 300 000; 0 disables.
   * It runs on the store's worker thread (not the event loop) in batches of 200 rows, pausing as
   * long as each batch took with the write lock released, so writers (this process's and others
   * sharing the file) keep writing meanwhile.
   */
  readonly sweepInterval?: number;
}

export { SQLITE_SCHEMA_VERSION, sqliteSchema };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const BUSY = new Set([5, 6]); // SQLITE_BUSY, SQLITE_LOCKED
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Run `body`, again after a short pause while SQLite says busy, for up to `timeoutMs`. */
function withBusyRetry(timeoutMs: number, body: () => void): void {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      body();
      return;
    } catch (err) {
      const code = (err as { errcode?: number }).errcode;
      if (code === undefined || !BUSY.has(code & 0xff) || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, wait); // start-up only: a synchronous pause, as the driver's own
    }
  }
}

/**
 * The embedded default store, on Node's built-in `node:sqlite`: nothing to install, one file,
 * shared safely by several processes on one machine (WAL journal, busy timeout).
 *
 * @example
 * ```ts
 * import { createSessions } from 'tessera-session';
 * import { sqliteStore } from 'tessera-session/sqlite';
 *
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: sqliteStore({ path: './sessions.db' }) });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): SessionStore & {
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
} {
  const {
    path,
    database,
    table = 'tessera_sessions',
    createTable = true,
    busyTimeout = 5000,
    sweepInterval = 300_000,
  } = options ?? {};
  if ((path === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      `sqliteStore needs exactly one of { path: './sessions.db' } or { database: new DatabaseSync(…) }`,
    );
  }
  if (!IDENTIFIER.test(table)) {
    throw new SessionConfigError(
      `sqliteStore: table ${JSON.stringify(table)} must be a plain SQL identifier (letters, digits, _)`,
    );
  }
  if (!Number.isInteger(busyTimeout) || busyTimeout < 0) {
    throw new SessionConfigError(
      `sqliteStore: busyTimeout must be a non-negative integer of ms; got ${busyTimeout}`,
    );
  }
  let db: DatabaseSync;
  try {
    db = database ?? new DatabaseSync(path!, { timeout: busyTimeout });
  } catch (err) {
    throw new SessionConfigError(
      `sqliteStore: cannot open ${JSON.stringify(path)} (does its folder exist and is it writable?)`,
      { cause: err },
    );
  }
  const owned = database === undefined;
  // WAL lets readers and one writer work at once across processes; NORMAL sync is durable
  // across application crashes and loses at most the last transactions on power loss.
  db.exec(`PRAGMA busy_timeout = ${busyTimeout}; PRAGMA synchronous = NORMAL;`);
  // Several processes may open a new file at the same moment (a cluster's workers starting).
  // Switching to WAL and creating the schema take the write lock, and SQLite answers SQLITE_BUSY
  // at once rather than waiting when another connection holds it there: retry until busyTimeout.
  // The schema goes in one IMMEDIATE transaction, which takes that lock first, then writes.
  withBusyRetry(busyTimeout, () => {
    const { journal_mode: mode } = db.prepare('PRAGMA journal_mode').get() as {
      journal_mode: string;
    };
    if (mode !== 'wal') db.exec('PRAGMA journal_mode = WAL');
  });
  if (createTable) {
    withBusyRetry(busyTimeout, () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(sqliteSchema(table));
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  // Start-up above may wait synchronously (before the server takes requests). From here on,
  // SQLite's own busy handler would sleep on the event loop (a lock held 3 s elsewhere froze the
  // whole process for 3 s): it is off, and `run` retries on a timer instead.
  db.exec('PRAGMA busy_timeout = 0');

  // The file's log is checkpointed on a thread of its own, not inside whichever commit crosses
  // SQLite's 1000-page mark (40–80 ms on the event loop each time). Until `close`, when SQLite
  // takes it back (on a connection given to us, which may live on).
  const { file } = db
    .prepare("SELECT file FROM pragma_database_list WHERE name = 'main'")
    .get() as {
    file: string;
  };
  const inline = () => {
    if (db.isOpen) db.exec('PRAGMA wal_autocheckpoint = 1000');
  };
  let checkpointer: Checkpointer | null = null;
  if (file !== '') {
    db.exec('PRAGMA wal_autocheckpoint = 0');
    checkpointer = startCheckpointer(file, inline);
  }

  let statements: Record<string, StatementSync> | null = null;
  let applyOne: ReturnType<typeof sqliteApply> | null = null;
  const sql = () => {
    if (statements === null) {
      statements = sqliteStatements(db, table);
      applyOne = sqliteApply(db, table);
    }
    return statements;
  };

  /**
   * Run a statement; a failure (locked past the busy timeout, a dropped table, a closed or
   * corrupt file) becomes ERR_SESSION_STORE_UNAVAILABLE with the driver's error as cause. A
   * dropped table is recreated once when this store manages the schema.
   */
  function attempt<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof SessionError) throw err;
      let failure = err;
      if (createTable && /no such table/.test(String((err as Error).message))) {
        try {
          db.exec(sqliteSchema(table));
          statements = null;
          return body();
        } catch (again) {
          failure = again;
        }
      }
      throw new SessionStoreError(`sqlite: ${what} failed: ${(failure as Error).message}`, {
        cause: failure,
      });
    }
  }

  /**
   * `attempt`, retried on a timer while another connection holds the lock (SQLITE_BUSY), up to
   * busyTimeout: the wait never blocks the event loop.
   */
  async function run<T>(what: string, body: () => T): Promise<T> {
    const deadline = Date.now() + busyTimeout;
    for (let wait = 1; ; wait = Math.min(wait * 2, 16)) {
      try {
        return attempt(what, body);
      } catch (err) {
        const code = ((err as Error).cause as { errcode?: number } | undefined)?.errcode;
        if (code === undefined || !BUSY.has(code & 0xff) || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** The request path's one-statement writes (apply, create, touch), committed a turn's worth at a time. */
  const group = groupCommit(
    db,
    () => {
      const s = sql();
      return { begin: s.begin!, commit: s.commit!, rollback: s.rollback! };
    },
    run,
  );

  /**
   * Run a delete statement a batch at a time until a batch deletes fewer than PURGE_BATCH rows:
   * on the store's thread when there is one (the event loop does none of it), else here, pausing
   * between batches with the lock released. What the thread could not finish (it stopped, a
   * statement failed) is done here, where a failure gets the store's handling. Resolves the rows
   * deleted.
   */
  async function inBatches(
    what: string,
    threadSql: string,
    statement: () => StatementSync,
    param: number,
  ): Promise<number> {
    let removed = 0;
    if (checkpointer) {
      try {
        return await checkpointer.purge(threadSql, param, PURGE_BATCH);
      } catch (err) {
        removed = err instanceof ThreadPurgeError ? err.removed : 0;
        if (closed) return removed;
      }
    }
    for (;;) {
      const n = await run(what, () => Number(statement().run(param).changes));
      removed += n;
      if (n < PURGE_BATCH || closed) return removed;
      // A pause with the lock released, long enough for other processes' writes to get in.
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
  }

  /** Delete expired rows (after what revocations left), a batch at a time. */
  async function purge(now: number): Promise<number> {
    await reap().catch(() => {}); // a failure: the next sweep tries again
    return inBatches('purgeExpired', purgeSql(table), () => sql().purge!, now);
  }

  /**
   * Delete the rows revocations marked, a batch at a time. Until then every statement skips
   * them, so a revoked session is gone from the moment its revocation resolves. A revocation that
   * lands while a reap is running has it go round once more, so its rows are not left waiting
   * for the next sweep.
   */
  const reaper = singleFlight(
    async () => {
      await inBatches('revokeUserSessions', reapSql(table), () => sql().reap!, 0);
    },
    () => closed,
  );
  const reap = reaper.start;

  let closed = false;
  const sweep = scheduleSweep(sweepInterval, purge);

  /**
   * One IMMEDIATE transaction on the live row under `key`: it takes the write lock before reading,
   * so the read and `change`'s write cannot interleave with another process's (nor a destroy slip
   * in between). Resolves `null`, writing nothing, when there is no live row.
   */
  function onLiveRow(
    what: string,
    key: string,
    now: number,
    change: (record: SessionRecord) => SessionRecord,
  ): Promise<SessionRecord | null> {
    return run(what, () => {
      sql().begin!.run();
      try {
        const row = sql().get!.get(key, now) as Row | undefined;
        if (!row) {
          sql().rollback!.run();
          return null;
        }
        const record = change(toRecord(row));
        sql().commit!.run();
        return record;
      } catch (err) {
        if (db.isTransaction) sql().rollback!.run();
        throw err;
      }
    });
  }

  /** The delta on the current row, applied with the code every store's semantics are defined by (src/lib/ops.ts). */
  function update(key: string, delta: SessionDelta, now: number): Promise<SessionRecord | null> {
    return onLiveRow('update', key, now, (record) => {
      applyDelta(record, delta);
      const data = JSON.stringify(record.data);
      sql().write!.run(data, record.lastSeenAt, record.expiresAt, key);
      // A fresh copy of the data: `record` shares the delta's `set` values with the caller.
      record.data = JSON.parse(data) as SessionRecord['data'];
      return record;
    });
  }

  return {
    async get(key, now) {
      return run('get', () => {
        const row = sql().get!.get(key, now) as Row | undefined;
        return row ? toRecord(row) : null;
      });
    },
    async create(key, r) {
      await group.write('create', () => sql().insert!.run(...rowValues(key, r)));
    },
    async insert(key, r, now) {
      return run('insert', () => {
        const { changes } = sql().insertIfAbsent!.run(...rowValues(key, r), now);
        return Number(changes) === 1;
      });
    },
    async apply(key, delta, now) {
      // The request path's write: one statement when the delta only sets and removes keys that a
      // JSON path can name (no transaction of its own, no row read back or parsed here; committed
      // with the turn's other writes); otherwise update's transaction.
      const written = await group.write('apply', () => {
        sql();
        const result = applyOne!(key, delta, now);
        return result === null ? null : Number(result.changes) === 1;
      });
      return written ?? (await update(key, delta, now)) !== null;
    },
    update,
    async regenerate(oldKey, newKey, { delta, userId }, now) {
      // The alive check, the delta on the current row and the move to the new key, under the
      // write lock.
      return onLiveRow('regenerate', oldKey, now, (record) => {
        applyDelta(record, delta);
        record.userId = userId;
        sql().move!.run(
          newKey,
          JSON.stringify(record.data),
          record.userId,
          record.lastSeenAt,
          record.expiresAt,
          oldKey,
        );
        return record;
      });
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      return group.write('touch', () => {
        const row = sql().touch!.get(expiresAt, lastSeenAt, key, now) as Row | undefined;
        return row ? toRecord(row) : null;
      });
    },
    async destroy(key) {
      return run('destroy', () => Number(sql().destroy!.run(key).changes) > 0);
    },
    async listByUser(userId, now) {
      return run('listByUser', () =>
        (sql().byUser!.all(userId, now) as unknown as Row[]).map(
          (row): StoredSession => ({ key: row.key, record: toRecord(row) }),
        ),
      );
    },
    async destroyByUser(userId, { except, keys } = {}) {
      // The user's keys are marked (USER_BATCH per statement, the event loop free between), which
      // every statement honours from then on; the rows are deleted afterwards, in batches (reap).
      // Sessions the user gains meanwhile may or may not go, as they would racing one statement.
      const revoked: string[] = [];
      for (let from = 0; ; from += USER_BATCH) {
        if (from > 0) await new Promise((resolve) => setImmediate(resolve));
        const rows = await run('destroyByUser', () =>
          keys === undefined
            ? sql().destroyByUser!.all(userId, except ?? null)
            : sql().destroyByUserKeys!.all(
                userId,
                except ?? null,
                JSON.stringify(keys.slice(from, from + USER_BATCH)),
              ),
        );
        for (const row of rows) revoked.push((row as { key: string }).key);
        if (keys === undefined ? rows.length < USER_BATCH : from + USER_BATCH >= keys.length) break;
      }
      if (revoked.length > 0) void reap().catch(() => {}); // a failure: the next sweep reaps
      return revoked;
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      return run('destroyUserSurplus', () =>
        (
          sql().destroySurplus!.all(userId, now, except ?? null, Math.max(0, keep)) as unknown as {
            key: string;
          }[]
        ).map((row) => row.key),
      );
    },
    async purgeExpired(now) {
      return purge(now);
    },
    async ping() {
      await run('ping', () => sql().ping!.get());
    },
    async close() {
      closed = true;
      sweep.stop();
      await group.settled();
      await reaper.settled();
      await checkpointer?.stop();
      if (owned && db.isOpen) db.close();
      else inline();
    },
  };
}
