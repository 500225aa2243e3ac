import type { Pool, PoolOptions } from 'mysql2/promise';
import { SessionConfigError, SessionError, SessionStoreError } from '../errors.ts';
import { ensureSchema, SCHEMA_VERSION, schemaStatements, USER_IS } from '../lib/mysql-schema.ts';
import { dataExpression, type Flavour, type Row, toRecord } from '../lib/mysql-sql.ts';
import { rowValues } from '../lib/row.ts';
import { singleFlight } from '../lib/single-flight.ts';
import { scheduleSweep } from '../lib/sweep.ts';
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

  let poolPromise: Promise<Pool> | null = given ? Promise.resolve(given) : null;
  const getPool = () =>
    (poolPromise ??= import('mysql2/promise').then(({ default: mysql }) => {
      const pool = mysql.createPool({
        // Bounded waits: a request gets an answer (or a 503) rather than hanging on a dead server.
        connectTimeout: 5000,
        connectionLimit: 10,
        ...poolOptions,
        uri: uri!,
      });
      // An idle connection dropping (server restart) is reported on the pool; without a listener
      // it could crash the process. The pool replaces the connection by itself.
      (pool as unknown as { pool: NodeJS.EventEmitter }).pool?.on?.('error', () => {});
      return pool;
    }));

  const t = `\`${table}\``;
  const columns =
    '`key`, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta';
  let flavour: Flavour = 'mariadb';
  /** Bound one statement on the server: MariaDB aborts and rolls it back; MySQL bounds SELECTs only. */
  const bounded = (sql: string) => {
    if (flavour === 'mariadb')
      return `SET STATEMENT max_statement_time = ${statementTimeout / 1000} FOR ${sql}`;
    return sql.startsWith('SELECT')
      ? `SELECT /*+ MAX_EXECUTION_TIME(${statementTimeout}) */${sql.slice('SELECT'.length)}`
      : sql;
  };

  let ready: Promise<void> | null = null;
  let maxPacket = Number.POSITIVE_INFINITY;
  async function setUp(pool: Pool): Promise<void> {
    const [rows] = await pool.query({
      sql: 'SELECT VERSION() AS v, @@max_allowed_packet AS packet, @@sql_mode AS mode',
      timeout: statementTimeout,
    });
    const server = (rows as { v: string; packet: number | string; mode: string }[])[0];
    flavour = /mariadb/i.test(String(server?.v)) ? 'mariadb' : 'mysql';
    maxPacket = Number(server?.packet) || Number.POSITIVE_INFINITY;
    if (/NO_BACKSLASH_ESCAPES/.test(String(server?.mode))) {
      // mysql2 escapes values with backslashes; under this mode they would not be escapes.
      throw new SessionConfigError(
        'mysqlStore: the server runs with sql_mode NO_BACKSLASH_ESCAPES, which mysql2 escaping does not support; remove it from sql_mode (or set it without it on the pool)',
      );
    }
    await ensureSchema(pool, table, createTable, statementTimeout);
  }

  /** Run a statement; failures become ERR_SESSION_STORE_UNAVAILABLE, a dropped table is recreated once. */
  async function run<R>(
    what: string,
    statement: string | (() => { sql: string; params: unknown[] }),
    values: unknown[] = [],
    idempotent = false,
    serial = false,
  ): Promise<R> {
    try {
      const pool = await getPool();
      ready ??= setUp(pool).catch((err) => {
        ready = null; // retried on the next call: the database may only be starting
        throw err;
      });
      await ready;
      // Built after set-up: the SQL depends on the server's flavour.
      const { sql, params } =
        typeof statement === 'string' ? { sql: statement, params: values } : statement();
      // The client waits a second longer than the server, so the server's abort (which rolls the
      // statement back) is what normally answers, not a client timeout on a statement that may land.
      // A statement over max_allowed_packet would make the server drop the connection (and
      // the pool hand that dead connection to the next request): refuse it before sending.
      let bytes = sql.length;
      for (const p of params) bytes += typeof p === 'string' ? Buffer.byteLength(p) * 2 : 24;
      if (bytes > maxPacket) {
        throw new SessionStoreError(
          `mysql: ${what}: the statement (~${bytes} bytes) is over the server's max_allowed_packet (${maxPacket}); store less in the session or raise max_allowed_packet`,
        );
      }
      const exec = async (): Promise<R> => {
        for (let victim = 1; ; victim++) {
          try {
            const sent = { sql: bounded(sql), timeout: statementTimeout + 1000 };
            if (!serial) return (await pool.query(sent, params))[0] as R;
            // Under REPEATABLE READ whatever the server's or the pool's default: its gap locks
            // order a regenerate and a revocation of the same user. Under READ COMMITTED the
            // revocation's scan can miss the key a regenerate inserts behind it (the race test
            // fails so within 50 rounds). SET STATEMENT cannot set the isolation level.
            const connection = await pool.getConnection();
            try {
              await connection.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
              return (await connection.query(sent, params))[0] as R;
            } finally {
              connection.release();
            }
          } catch (err) {
            // A deadlock's victim was rolled back whole, so it is sent again (a revocation's marks
            // and a regenerate's check of them can take their locks in either order).
            if ((err as { code?: string }).code !== 'ER_LOCK_DEADLOCK' || victim === 3) throw err;
          }
        }
      };
      try {
        return await exec();
      } catch (err) {
        // A pooled connection the server already closed (a restart, an idle timeout) fails its
        // next statement at once; a read is safe to send again on a fresh connection.
        if (idempotent && (err as { fatal?: boolean }).fatal) return await exec();
        if (createTable && (err as { code?: string }).code === 'ER_NO_SUCH_TABLE') {
          ready = setUp(pool);
          await ready;
          return await exec();
        }
        throw err;
      }
    } catch (err) {
      if (err instanceof SessionError) throw err;
      throw new SessionStoreError(`mysql: ${what} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  type Result = { affectedRows: number };
  const r = `\`${table}_revoked\``;
  /** Not marked by a revocation (whose rows go afterwards, with their marks: {@link reap}). */
  const alive = `NOT EXISTS (SELECT 1 FROM ${r} AS m WHERE m.\`key\` = ${t}.\`key\`)`;
  /**
   * The same as a join, for statements on one key or one user: the optimizer reads the mark as a
   * constant, where the dependent subquery above runs per row (in-process, 8 in flight: a
   * `get` 7 200-7 400 against 10 500-10 800 per second as a join, the same as with no check).
   */
  const marked = `${t} LEFT JOIN ${r} AS m ON m.\`key\` = ${t}.\`key\``;
  const unmarked = 'm.`key` IS NULL';
  const k = `${t}.\`key\``;
  const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');

  const purge = async (now: number) => {
    await reap().catch(() => {}); // a failure: the next sweep reaps
    let total = 0;
    for (;;) {
      // Marked rows are left to the reap, which deletes each with its mark.
      const { affectedRows } = await run<Result>(
        'purgeExpired',
        `DELETE FROM ${t} WHERE expires_at <= ? AND ${alive} ORDER BY expires_at LIMIT ${purgeBatch}`,
        [now],
      );
      total += affectedRows;
      if (affectedRows < purgeBatch) return total;
    }
  };

  /**
   * Delete the rows revocations marked, each with its mark in one statement, `purgeBatch` at a
   * time. A revocation landing while a reap runs has it go round once more.
   */
  const reaper = singleFlight(
    async () => {
      for (;;) {
        const marks = await run<{ key: string }[]>(
          'revokeUserSessions',
          `SELECT \`key\` FROM ${r} LIMIT ${purgeBatch}`,
          [],
          true,
        );
        if (marks.length === 0) return;
        await run(
          'revokeUserSessions',
          `DELETE ${t}, m FROM ${r} AS m LEFT JOIN ${t} ON ${t}.\`key\` = m.\`key\` WHERE m.\`key\` IN (${list(marks.length)})`,
          marks.map((row) => row.key),
        );
        if (marks.length < purgeBatch) return;
      }
    },
    () => closed,
  );
  const reap = reaper.start;
  let closed = false;
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
  /** Set-up done (or failed), so `flavour` is the server's: the statements below depend on it. */
  async function flavourKnown(what: string): Promise<void> {
    if (ready === null) await run(what, 'SELECT 1', [], true);
    else await ready.catch(() => {});
  }
  /** The delta as one UPDATE, only while the row is alive; whether it was. */
  async function write(what: string, key: string, delta: SessionDelta, now: number) {
    const { affectedRows } = await run<Result>(what, () => {
      const data = dataExpression(delta, flavour);
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
      const sql = `DELETE FROM ${t} WHERE ${USER_IS} AND \`key\` IN (${list(batch.length)})`;
      if (flavour === 'mariadb') {
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
  const insertRow = `INSERT INTO ${t} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  const duplicate = (err: unknown) =>
    (err as { cause?: { code?: string } }).cause?.code === 'ER_DUP_ENTRY';
  return {
    async get(key, now) {
      const rows = await run<Row[]>(
        'get',
        `${select} WHERE ${k} = ? AND expires_at > ? AND ${unmarked}`,
        [key, now],
        true,
      );
      return rows[0] ? toRecord(rows[0]) : null;
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
          const data = dataExpression(delta, flavour);
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
      // The user's keys are marked (read from the user index alone, no row touched) and the call
      // resolves; every statement skips a marked key from then on, and the rows are deleted
      // afterwards with their marks (reap). 10 000 sessions in a table the buffer pool does not
      // hold: 1 155 ms when the rows were deleted here, one page each (BENCHMARKS.md).
      if (keys !== undefined && keys.length === 0) return [];
      const only = keys ? ` AND \`key\` IN (${list(keys.length)})` : '';
      const params = [userId, except ?? '', ...(keys ?? [])];
      const mine = `FROM ${t} WHERE ${USER_IS} AND \`key\` <> ?${only}`;
      await flavourKnown('destroyByUser');
      let revoked: string[];
      if (flavour === 'mariadb') {
        // One statement, the keys marked come back with it (a session the user creates
        // meanwhile is either marked and listed, or untouched). A key marked already is a
        // duplicate IGNORE skips, and RETURNING lists only the rows inserted (cheaper than
        // excluding marked keys in the SELECT, which reads the marks table it writes: 20 ms in 70).
        const rows = await run<{ key: string }[]>(
          'destroyByUser',
          `INSERT IGNORE INTO ${r} (\`key\`) SELECT \`key\` ${mine} RETURNING \`key\``,
          params,
          false,
          true,
        );
        revoked = rows.map((row) => row.key);
      } else {
        // MySQL has no INSERT … RETURNING: the keys already marked, the marks, then the user's
        // marked keys but those. Listing the keys first and marking exactly those would miss one
        // a regenerate moved meanwhile.
        const user = `${USER_IS} AND ${k} <> ?${only.replace('`key`', k)}`;
        const before = await run<{ key: string }[]>(
          'destroyByUser',
          `SELECT ${k} FROM ${t} JOIN ${r} AS m ON m.\`key\` = ${k} WHERE ${user}`,
          params,
          true,
        );
        const earlier = new Set(before.map((row) => row.key));
        await run(
          'destroyByUser',
          `INSERT IGNORE INTO ${r} (\`key\`) SELECT \`key\` ${mine}`,
          params,
          false,
          true,
        );
        const rows = await run<{ key: string }[]>(
          'destroyByUser',
          `SELECT ${k} FROM ${t} JOIN ${r} AS m ON m.\`key\` = ${k} WHERE ${user}`,
          params,
          true,
        );
        revoked = rows.map((row) => row.key).filter((key) => !earlier.has(key));
      }
      if (revoked.length > 0) void reap().catch(() => {}); // a failure: the next sweep reaps
      return revoked;
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
      await reaper.settled();
      if (!given && poolPromise) await (await poolPromise).end();
    },
  };
}
