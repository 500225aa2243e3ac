import type { Pool, PoolOptions } from 'mysql2/promise';
import { SessionConfigError, SessionError, SessionStoreError } from '../errors.ts';
import { dataExpression, type Flavour, type Row, toRecord } from '../lib/mysql-sql.ts';
import { rowValues } from '../lib/row.ts';
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The schema version this release writes; a later release migrates from it.
 *
 * @example
 * ```ts
 * console.log(`tessera MySQL schema v${MYSQL_SCHEMA_VERSION}`);
 * ```
 */
export const MYSQL_SCHEMA_VERSION = 1;

/**
 * The DDL, for teams that apply their schema by hand (`createTable: false`).
 *
 * @example
 * ```ts
 * console.log(mysqlSchema('tessera_sessions'));
 * ```
 */
export function mysqlSchema(table = 'tessera_sessions'): string {
  // Binary collations: keys are base64url (case matters) and user ids are compared exactly; the
  // default case-insensitive collations would make two different keys one row.
  // `data` is LONGTEXT checked as JSON (MariaDB's JSON type is exactly that): it keeps the
  // text, so object keys come back in the order they were written.
  return `CREATE TABLE IF NOT EXISTS \`${table}\` (
  \`key\` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, -- SHA-256 of the token, base64url
  data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (JSON_VALID(data)),
  user_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, -- any length; indexed by its first 191 characters
  created_at BIGINT NOT NULL,           -- epoch ms
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  absolute_expires_at BIGINT NOT NULL,
  meta LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  INDEX \`${table}_expires_at\` (expires_at),
  INDEX \`${table}_user_id\` (user_id(191))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='tessera-session schema v${MYSQL_SCHEMA_VERSION}'`;
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
      `mysqlStore: table ${JSON.stringify(table)} must be an SQL identifier (A-Z, a-z, 0-9, _; at most 63)`,
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
    // CREATE TABLE IF NOT EXISTS takes a metadata lock: processes starting together do not race.
    if (createTable) await pool.query({ sql: mysqlSchema(table), timeout: 10_000 });
  }

  /** Run a statement; failures become ERR_SESSION_STORE_UNAVAILABLE, a dropped table is recreated once. */
  async function run<R>(
    what: string,
    statement: string | (() => { sql: string; params: unknown[] }),
    values: unknown[] = [],
    idempotent = false,
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
      const exec = async () =>
        (await pool.query({ sql: bounded(sql), timeout: statementTimeout + 1000 }, params))[0] as R;
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
  const purge = async (now: number) => {
    let total = 0;
    for (;;) {
      const { affectedRows } = await run<Result>(
        'purgeExpired',
        `DELETE FROM ${t} WHERE expires_at <= ? ORDER BY expires_at LIMIT ${purgeBatch}`,
        [now],
      );
      total += affectedRows;
      if (affectedRows < purgeBatch) return total;
    }
  };
  const sweep = scheduleSweep(sweepInterval, purge);

  const select = `SELECT ${columns} FROM ${t}`;
  /**
   * The record after a write, read in a second statement (neither MySQL nor MariaDB has
   * `UPDATE … RETURNING`): it holds the write and maybe later ones, never an older state;
   * `null` when a destroy landed in between.
   */
  async function readBack(what: string, key: string): Promise<SessionRecord | null> {
    const rows = await run<Row[]>(what, `${select} WHERE \`key\` = ?`, [key], true);
    return rows[0] ? toRecord(rows[0]) : null;
  }
  /** Set-up done (or failed), so `flavour` is the server's: the statements below depend on it. */
  async function flavourKnown(what: string): Promise<void> {
    if (ready === null) await run(what, 'SELECT 1', [], true);
    else await ready.catch(() => {});
  }
  /**
   * Delete the user's sessions among `keys`, 1000 per statement; resolves those deleted. MariaDB
   * says which with `DELETE … RETURNING`; MySQL has no RETURNING, so every key asked for that
   * was found when it looked counts.
   */
  /** The delta as one UPDATE, only while the row is alive; whether it was. */
  async function write(what: string, key: string, delta: SessionDelta, now: number) {
    const { affectedRows } = await run<Result>(what, () => {
      const data = dataExpression(delta, flavour);
      return {
        sql: `UPDATE ${t} SET data = ${data.sql}, expires_at = COALESCE(?, expires_at),
                last_seen_at = COALESCE(?, last_seen_at)
              WHERE \`key\` = ? AND expires_at > ?`,
        params: [...data.params, delta.expiresAt ?? null, delta.lastSeenAt ?? null, key, now],
      };
    });
    // affectedRows counts matched rows, changed or not: mysql2 sets CLIENT_FOUND_ROWS by default.
    return affectedRows > 0;
  }

  async function deleteKeys(what: string, userId: string, keys: readonly string[]) {
    await flavourKnown(what);
    const deleted: string[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const sql = `DELETE FROM ${t} WHERE user_id = ? AND \`key\` IN (${batch.map(() => '?').join(', ')})`;
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
  return {
    async get(key, now) {
      const rows = await run<Row[]>(
        'get',
        `${select} WHERE \`key\` = ? AND expires_at > ?`,
        [key, now],
        true,
      );
      return rows[0] ? toRecord(rows[0]) : null;
    },
    async create(key, r) {
      await run(
        'create',
        `INSERT INTO ${t} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE data = VALUES(data), user_id = VALUES(user_id), created_at = VALUES(created_at),
           last_seen_at = VALUES(last_seen_at), expires_at = VALUES(expires_at),
           absolute_expires_at = VALUES(absolute_expires_at), meta = VALUES(meta)`,
        rowValues(key, r),
      );
    },
    async insert(key, r, now) {
      // An expired row under the key is replaced; a live one makes the plain INSERT fail with a
      // duplicate key (atomic in the server: of two racing inserts exactly one lands).
      await run('insert', `DELETE FROM ${t} WHERE \`key\` = ? AND expires_at <= ?`, [key, now]);
      try {
        const insert = `INSERT INTO ${t} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
        await run('insert', insert, rowValues(key, r));
        return true;
      } catch (err) {
        if ((err as { cause?: { code?: string } }).cause?.code === 'ER_DUP_ENTRY') return false;
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
      // current value, only while it is alive. Nobody else knows newKey, so reading it after is safe.
      const { affectedRows } = await run<Result>('regenerate', () => {
        const data = dataExpression(delta, flavour);
        return {
          sql: `UPDATE ${t} SET data = ${data.sql}, \`key\` = ?, user_id = ?,
                  expires_at = COALESCE(?, expires_at), last_seen_at = COALESCE(?, last_seen_at)
                WHERE \`key\` = ? AND expires_at > ?`,
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
      });
      return affectedRows > 0 ? readBack('regenerate', newKey) : null;
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      const { affectedRows } = await run<Result>(
        'touch',
        `UPDATE ${t} SET expires_at = ?, last_seen_at = ? WHERE \`key\` = ? AND expires_at > ?`,
        [expiresAt, lastSeenAt, key, now],
      );
      return affectedRows > 0 ? readBack('touch', key) : null;
    },
    async destroy(key) {
      const { affectedRows } = await run<Result>('destroy', `DELETE FROM ${t} WHERE \`key\` = ?`, [
        key,
      ]);
      return affectedRows > 0;
    },
    async listByUser(userId, now) {
      const rows = await run<Row[]>(
        'listByUser',
        `${select} WHERE user_id = ? AND expires_at > ?`,
        [userId, now],
        true,
      );
      return rows.map((row): StoredSession => ({ key: row.key, record: toRecord(row) }));
    },
    async destroyByUser(userId, { except, keys } = {}) {
      // MySQL has no DELETE … RETURNING: read the keys (index only, no record parsed), then delete
      // exactly those (1000 per statement). Resolves the keys deleted.
      if (keys !== undefined && keys.length === 0) return [];
      const only = keys ? ` AND \`key\` IN (${keys.map(() => '?').join(', ')})` : '';
      await flavourKnown('destroyByUser');
      if (flavour === 'mariadb') {
        // MariaDB: one statement, the keys deleted come back with it (a session the user creates
        // meanwhile is either deleted and listed, or untouched).
        const rows = await run<{ key: string }[]>(
          'destroyByUser',
          `DELETE FROM ${t} WHERE user_id = ? AND \`key\` <> ?${only} RETURNING \`key\``,
          [userId, except ?? '', ...(keys ?? [])],
        );
        return rows.map((row) => row.key);
      }
      const listed = await run<{ key: string }[]>(
        'destroyByUser',
        `SELECT \`key\` FROM ${t} WHERE user_id = ? AND \`key\` <> ?${only}`,
        [userId, except ?? '', ...(keys ?? [])],
        true,
      );
      return deleteKeys(
        'destroyByUser',
        userId,
        listed.map((row) => row.key),
      );
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      // Two statements: the live sessions' keys and last-seen times (no record read), then one
      // DELETE of exactly the surplus. Finding the cut in SQL (ORDER BY … LIMIT 1 OFFSET keep as a
      // scalar subquery, three times, inside the DELETE) read the user's rows four times: 130-320
      // ms for a login past a bound of 10 000, against ~50 ms for this read. A session seen
      // between the two statements may go though it is no longer among the oldest: a login at
      // the cap removes the session that was the oldest when it looked.
      const live = await run<{ key: string; last_seen_at: number | string }[]>(
        'destroyUserSurplus',
        `SELECT \`key\`, last_seen_at FROM ${t} WHERE user_id = ? AND expires_at > ? AND \`key\` <> ?`,
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
      sweep.stop();
      if (!given && poolPromise) await (await poolPromise).end();
    },
  };
}
