import type { Pool, PoolOptions } from 'mysql2/promise';
import { SessionConfigError } from '../errors.ts';
import { mysqlConnection } from '../lib/mysql-connection.ts';
import { mysqlRevocation, placeholders } from '../lib/mysql-revocation.ts';
import { SCHEMA_VERSION, schemaStatements, USER_IS } from '../lib/mysql-schema.ts';
import { dataExpression, type Row, toRecord } from '../lib/mysql-sql.ts';
import { rowValues } from '../lib/row.ts';
import { scheduleSweep } from '../lib/sweep.ts';
import { type BatchJob, settleBatch, turnBatch } from '../lib/turn-batch.ts';
import type { SessionDelta, SessionRecord, SessionStore, StoredSession } from '../store.ts';

/**
 * Options of {@link mysqlStore}. Give `pool` or `uri`.
 *
 * @example
 * ```ts
 * const options: MysqlStoreOptions = { pool: mysql.createPool({ uri: process.env.MYSQL_URL }) };
 * ```
 */
export interface MysqlStoreOptions {
  /** Your `mysql2/promise` pool (tessera will not end it). */
  readonly pool?: Pool;
  /** Or a connection URI (`mysql://user:pass@host:3306/db`); tessera then makes (and on `close()` ends) its own pool. */
  readonly uri?: string;
  /** Extra settings for the pool tessera makes from `uri`. */
  readonly poolOptions?: Omit<PoolOptions, 'uri'>;
  /** Table name, in the pool's database. Default `tessera_sessions`. */
  readonly table?: string;
  /** Create the table and its indexes when missing. Default `true`; `false` if you apply {@link mysqlSchema} yourself. */
  readonly createTable?: boolean;
  /**
   * How long one statement may run on the server, in ms; the client gives up 1 s later. Default
   * 2000. On MariaDB the server aborts (and rolls back) a statement past it, so a write that timed
   * out never lands later; on MySQL only reads are bounded by the server (see docs/stores/mysql.md).
   */
  readonly statementTimeout?: number;
  /** Background purge of expired rows, in ms (± 10 % jitter, `unref`'d). Default 300 000; 0 disables. */
  readonly sweepInterval?: number;
  /** Rows deleted per purge statement, so no purge holds locks for long. Default 1000. */
  readonly purgeBatch?: number;
}

// 53 characters at most: MySQL names are 64, and the longest name made from it is `<table>_expires_at`.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,52}$/;

/**
 * The schema version this release writes; a later release migrates from it.
 *
 * @example
 * ```ts
 * console.log(`tessera MySQL schema v${MYSQL_SCHEMA_VERSION}`);
 * ```
 */
export const MYSQL_SCHEMA_VERSION = SCHEMA_VERSION;

/**
 * The DDL, for teams that apply their schema by hand (`createTable: false`): two statements, the
 * sessions table and `<table>_revoked` (the keys a revocation marked until their rows are deleted).
 *
 * @example
 * ```ts
 * console.log(mysqlSchema('tessera_sessions'));
 * ```
 */
export function mysqlSchema(table = 'tessera_sessions'): string {
  return `${schemaStatements(table).join(';\n\n')};`;
}

/** A get waiting for its turn's batch. */
interface Read extends BatchJob<SessionRecord | null> {
  readonly key: string;
  readonly now: number;
}

/**
 * Whether the server itself refused a statement (an SQLSTATE outside a lost connection, 08, an
 * interrupted or timed-out statement, 70, and the catch-all HY): then each part may be tried alone.
 */
function refusedByServer(err: unknown): boolean {
  const cause = (err as Error).cause as { sqlState?: unknown; fatal?: boolean } | undefined;
  const state = cause?.sqlState;
  return typeof state === 'string' && !cause?.fatal && !/^(08|70|HY)/.test(state);
}

/**
 * A MySQL / MariaDB store on `mysql2`: JSON data, each delta applied in one `UPDATE` (`JSON_SET`,
 * `JSON_REMOVE`, array append and pull, increment) under the row lock, so concurrent requests
 * never lose each other's changes, and only while the row is alive, so a destroyed session is
 * never written back.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * import { createSessions } from 'tessera-session';
 * import { mysqlStore } from 'tessera-session/mysql';
 *
 * const pool = mysql.createPool({ uri: process.env.MYSQL_URL, connectTimeout: 5000 });
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: mysqlStore({ pool }) });
 * ```
 */
export function mysqlStore(options: MysqlStoreOptions): SessionStore & {
  regenerate: NonNullable<SessionStore['regenerate']>;
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
} {
  const {
    pool: given,
    uri,
    poolOptions = {},
    table = 'tessera_sessions',
    createTable = true,
    statementTimeout = 2000,
    sweepInterval = 300_000,
    purgeBatch = 1000,
  } = options ?? {};
  if ((given === undefined) === (uri === undefined)) {
    throw new SessionConfigError(
      `mysqlStore needs exactly one of { pool: mysql.createPool(…) } (from 'mysql2/promise') or { uri: 'mysql://…' }`,
    );
  }
  if (!IDENTIFIER.test(table)) {
    throw new SessionConfigError(
      `mysqlStore: table ${JSON.stringify(table)} must be an SQL identifier (A-Z, a-z, 0-9, _; at most 53)`,
    );
  }
  if (!Number.isInteger(statementTimeout) || statementTimeout < 100) {
    throw new SessionConfigError(
      `mysqlStore: statementTimeout must be a whole number of milliseconds, at least 100 (default 2000)`,
    );
  }
  if (!Number.isInteger(purgeBatch) || purgeBatch < 1) {
    throw new SessionConfigError(
      `mysqlStore: purgeBatch must be a positive integer (default 1000)`,
    );
  }

  const connection = mysqlConnection({
    given,
    uri,
    poolOptions,
    table,
    createTable,
    statementTimeout,
  });
  const { run, flavourKnown } = connection;
  const t = `\`${table}\``;
  const columns =
    '`key`, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta';

  type Result = { affectedRows: number };
  let closed = false;
  const revocation = mysqlRevocation({
    table,
    run,
    flavour: connection.flavour,
    flavourKnown,
    purgeBatch,
    closed: () => closed,
  });
  const { marked, unmarked, marks: r } = revocation;
  const k = `${t}.\`key\``;

  const purge = async (now: number) => {
    await revocation.reap().catch(() => {}); // a failure: the next sweep reaps
    let total = 0;
    for (;;) {
      // Marked rows are left to the reap, which deletes each with its mark.
      const { affectedRows } = await run<Result>(
        'purgeExpired',
        `DELETE FROM ${t} WHERE expires_at <= ? AND ${revocation.alive} ORDER BY expires_at LIMIT ${purgeBatch}`,
        [now],
      );
      total += affectedRows;
      if (affectedRows < purgeBatch) return total;
    }
  };
  const sweep = scheduleSweep(sweepInterval, purge);

  const select = `SELECT ${columns.replace('`key`', k)} FROM ${marked}`;
  /**
   * The record after a write, read in a second statement (neither MySQL nor MariaDB has
   * `UPDATE … RETURNING`): it holds the write and maybe later ones, never an older state;
   * `null` when a destroy or a revocation landed in between.
   */
  async function readBack(what: string, key: string): Promise<SessionRecord | null> {
    const rows = await run<Row[]>(what, `${select} WHERE ${k} = ? AND ${unmarked}`, [key], true);
    return rows[0] ? toRecord(rows[0]) : null;
  }
  /** The delta as one UPDATE, only while the row is alive; whether it was. */
  async function write(what: string, key: string, delta: SessionDelta, now: number) {
    const { affectedRows } = await run<Result>(what, () => {
      const data = dataExpression(delta, connection.flavour());
      return {
        sql: `UPDATE ${marked} SET data = ${data.sql}, expires_at = COALESCE(?, expires_at),
                last_seen_at = COALESCE(?, last_seen_at)
              WHERE ${k} = ? AND expires_at > ? AND ${unmarked}`,
        params: [...data.params, delta.expiresAt ?? null, delta.lastSeenAt ?? null, key, now],
      };
    });
    // affectedRows counts matched rows, changed or not: mysql2 sets CLIENT_FOUND_ROWS by default.
    return affectedRows > 0;
  }
  /**
   * Delete the user's sessions among `keys`, 1000 per statement; resolves those deleted. MariaDB
   * says which with `DELETE … RETURNING`; MySQL has no RETURNING, so every key asked for that
   * was found when it looked counts.
   */
  async function deleteKeys(what: string, userId: string, keys: readonly string[]) {
    await flavourKnown(what);
    const deleted: string[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const sql = `DELETE FROM ${t} WHERE ${USER_IS} AND \`key\` IN (${placeholders(batch.length)})`;
      if (connection.flavour() === 'mariadb') {
        const rows = await run<{ key: string }[]>(what, `${sql} RETURNING \`key\``, [
          userId,
          ...batch,
        ]);
        for (const row of rows) deleted.push(row.key);
      } else {
        await run<Result>(what, sql, [userId, ...batch]);
        deleted.push(...batch);
      }
    }
    return deleted;
  }
  /**
   * The gets of one turn of the event loop in one statement (src/lib/turn-batch.ts): the rows of
   * their keys, each get's own clock checked here, so each caller gets what a get of its own would
   * have. The key list is padded to a power of two (with a key already in it), so the server sees
   * few statement shapes. A batch the server refused is read again get by get.
   */
  const reads = turnBatch<Read>(
    (jobs) =>
      settleBatch(
        jobs,
        async () => {
          const keys = [...new Set(jobs.map((j) => j.key))];
          const size = 2 ** Math.ceil(Math.log2(keys.length));
          const rows = await run<Row[]>(
            'get',
            `${select} WHERE ${k} IN (${placeholders(size)}) AND ${unmarked}`,
            [...keys, ...Array<string>(size - keys.length).fill(keys[0]!)],
            true,
          );
          const found = new Map(rows.map((row) => [row.key, row]));
          const given = new Set<Row>();
          for (const job of jobs) {
            const row = found.get(job.key);
            if (!row || Number(row.expires_at) <= job.now) job.resolve(null);
            else if (given.has(row))
              job.resolve(toRecord(row, true)); // the same row again: a copy
            else {
              given.add(row);
              job.resolve(toRecord(row));
            }
          }
        },
        (j) => getOne(j.key, j.now).then(j.resolve, j.reject),
        refusedByServer,
      ),
    256,
  );
  async function getOne(key: string, now: number): Promise<SessionRecord | null> {
    const rows = await run<Row[]>(
      'get',
      `${select} WHERE ${k} = ? AND expires_at > ? AND ${unmarked}`,
      [key, now],
      true,
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  const insertRow = `INSERT INTO ${t} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  const duplicate = (err: unknown) =>
    (err as { cause?: { code?: string } }).cause?.code === 'ER_DUP_ENTRY';
  return {
    get(key, now) {
      return new Promise((resolve, reject) => reads.add({ key, now, resolve, reject }));
    },
    async create(key, record) {
      // A new key (every login's) is one INSERT. Over an existing row, its mark (if a revocation
      // left one) goes first, then the row is replaced: a reap between finds no mark and leaves
      // the new row, and one before leaves no row to replace.
      try {
        await run('create', insertRow, rowValues(key, record));
        return;
      } catch (err) {
        if (!duplicate(err)) throw err;
      }
      await run('create', `DELETE FROM ${r} WHERE \`key\` = ?`, [key]);
      await run(
        'create',
        `${insertRow}
         ON DUPLICATE KEY UPDATE data = VALUES(data), user_id = VALUES(user_id), created_at = VALUES(created_at),
           last_seen_at = VALUES(last_seen_at), expires_at = VALUES(expires_at),
           absolute_expires_at = VALUES(absolute_expires_at), meta = VALUES(meta)`,
        rowValues(key, record),
      );
    },
    async insert(key, record, now) {
      // An expired or revoked row under the key is deleted (a revoked one with its mark); a live
      // one makes the plain INSERT fail with a duplicate key (atomic in the server: of two racing
      // inserts exactly one lands).
      await run(
        'insert',
        `DELETE ${t}, m FROM ${t} LEFT JOIN ${r} AS m ON m.\`key\` = ${t}.\`key\`
         WHERE ${t}.\`key\` = ? AND (${t}.expires_at <= ? OR m.\`key\` IS NOT NULL)`,
        [key, now],
      );
      try {
        await run('insert', insertRow, rowValues(key, record));
        return true;
      } catch (err) {
        if (duplicate(err)) return false;
        throw err;
      }
    },
    async update(key, delta, now) {
      return (await write('update', key, delta, now)) ? readBack('update', key) : null;
    },
    async apply(key, delta, now) {
      // The request path's write: the UPDATE alone, without the statement that reads the row back
      // (a third round trip per write request: bench write 0.85x -> see BENCHMARKS.md).
      return write('update', key, delta, now);
    },
    async regenerate(oldKey, newKey, { delta, userId }, now) {
      // One statement: renaming the primary key moves the row, with the delta applied to its
      // current value, only while it is alive and not revoked. Nobody else knows newKey, so
      // reading it after is safe. Against a revocation of the same user, the locks on the row and
      // the marks order the two, under REPEATABLE READ (serial): the test "a regenerate racing
      // sign out everywhere" holds it.
      const { affectedRows } = await run<Result>(
        'regenerate',
        () => {
          const data = dataExpression(delta, connection.flavour());
          return {
            sql: `UPDATE ${marked} SET data = ${data.sql}, ${k} = ?, user_id = ?,
                  expires_at = COALESCE(?, expires_at), last_seen_at = COALESCE(?, last_seen_at)
                WHERE ${k} = ? AND expires_at > ? AND ${unmarked}`,
            params: [
              ...data.params,
              newKey,
              userId,
              delta.expiresAt ?? null,
              delta.lastSeenAt ?? null,
              oldKey,
              now,
            ],
          };
        },
        [],
        false,
        true,
      );
      return affectedRows > 0 ? readBack('regenerate', newKey) : null;
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      const { affectedRows } = await run<Result>(
        'touch',
        `UPDATE ${marked} SET expires_at = ?, last_seen_at = ? WHERE ${k} = ? AND expires_at > ? AND ${unmarked}`,
        [expiresAt, lastSeenAt, key, now],
      );
      return affectedRows > 0 ? readBack('touch', key) : null;
    },
    async destroy(key) {
      // A revoked row is gone already: deleting it reports nothing.
      const { affectedRows } = await run<Result>(
        'destroy',
        `DELETE ${t} FROM ${marked} WHERE ${k} = ? AND ${unmarked}`,
        [key],
      );
      return affectedRows > 0;
    },
    async listByUser(userId, now) {
      const rows = await run<Row[]>(
        'listByUser',
        `${select} WHERE ${USER_IS} AND expires_at > ? AND ${unmarked}`,
        [userId, now],
        true,
      );
      return rows.map((row): StoredSession => ({ key: row.key, record: toRecord(row) }));
    },
    async destroyByUser(userId, { except, keys } = {}) {
      // The keys are marked and the call resolves; the rows go afterwards (lib/mysql-revocation.ts).
      if (keys !== undefined && keys.length === 0) return [];
      return revocation.revoke(userId, except, keys);
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      // Two statements: the live sessions' keys and last-seen times (from the user index alone),
      // then one DELETE of exactly the surplus. Finding the cut in SQL (ORDER BY … LIMIT 1 OFFSET
      // keep as a scalar subquery, three times, inside the DELETE) read the user's rows four
      // times. A session seen between the two statements may go though it is no longer among
      // the oldest: a login at the cap removes the session that was the oldest when it looked.
      const live = await run<{ key: string; last_seen_at: number | string }[]>(
        'destroyUserSurplus',
        `SELECT ${k}, last_seen_at FROM ${marked} WHERE ${USER_IS} AND expires_at > ? AND ${k} <> ? AND ${unmarked}`,
        [userId, now, except ?? ''],
        true,
      );
      const kept = Math.max(0, keep);
      if (live.length <= kept) return [];
      const seen = live.map((row) => [row.key, Number(row.last_seen_at)] as const);
      seen.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const surplus = seen.slice(kept).map(([k]) => k);
      return deleteKeys('destroyUserSurplus', userId, surplus);
    },
    purgeExpired: purge,
    async ping() {
      await run('ping', 'SELECT 1', [], true);
    },
    async close() {
      closed = true;
      sweep.stop();
      await reads.settled();
      await revocation.settled();
      await connection.end();
    },
  };
}
