/**
 * The MySQL store's connection: the pool (yours, or one made from a URI), set-up on first use
 * (the server's flavour, max_allowed_packet and sql_mode; the schema), and `run`, which sends one
 * statement bounded on the server, refuses one over the packet limit, resends deadlock victims
 * and reads on a dropped connection, recreates a dropped table, and turns every failure into a
 * typed error.
 * @internal
 */
import type { Pool, PoolOptions } from 'mysql2/promise';
import { SessionConfigError, SessionError, SessionStoreError } from '../errors.ts';
import { ensureSchema } from './mysql-schema.ts';
import type { Flavour } from './mysql-sql.ts';

export interface ConnectionOptions {
  readonly given: Pool | undefined;
  readonly uri: string | undefined;
  readonly poolOptions: Omit<PoolOptions, 'uri'>;
  readonly table: string;
  readonly createTable: boolean;
  readonly statementTimeout: number;
}

export function mysqlConnection({
  given,
  uri,
  poolOptions,
  table,
  createTable,
  statementTimeout,
}: ConnectionOptions) {
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

  /** Set-up done (or failed), so `flavour` is the server's: the statements below depend on it. */
  async function flavourKnown(what: string): Promise<void> {
    if (ready === null) await run(what, 'SELECT 1', [], true);
    else await ready.catch(() => {});
  }
  return {
    run,
    flavourKnown,
    /** The server's flavour: `mariadb` until set-up has read it ({@link flavourKnown}). */
    flavour: (): Flavour => flavour,
    /** End the pool tessera made from `uri` (never yours). */
    async end(): Promise<void> {
      if (!given && poolPromise) await (await poolPromise).end();
    },
  };
}
