import type { Pool, PoolConfig, QueryConfig } from 'pg';
import { SessionConfigError, SessionError, SessionStoreError } from '../errors.ts';
import { type BatchedCreate, type BatchedWrite, postgresBatches } from '../lib/postgres-batches.ts';
import { POSTGRES_SCHEMA_VERSION, postgresSchema } from '../lib/postgres-schema.ts';
import { postgresStatements } from '../lib/postgres-statements.ts';
import { offersVersions, versioned } from '../lib/record-version.ts';
import { rowValues } from '../lib/row.ts';
import { scheduleSweep } from '../lib/sweep.ts';
import type {
  AtomicOp,
  JsonValue,
  SessionDelta,
  SessionRecord,
  SessionStore,
  StoredSession,
} from '../store.ts';

/**
 * Options of {@link postgresStore}. Give `pool` or `connectionString`.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { pool: new pg.Pool(), table: 'sessions' };
 * ```
 */
export interface PostgresStoreOptions {
  /** Your `pg.Pool` (tessera will not end it). */
  readonly pool?: Pool;
  /** Or a connection string; tessera then makes (and on `close()` ends) its own pool. */
  readonly connectionString?: string;
  /** Extra settings for the pool tessera makes from `connectionString`. */
  readonly poolConfig?: Omit<PoolConfig, 'connectionString'>;
  /** Default `public`. */
  readonly schema?: string;
  /** Default `tessera_sessions`. */
  readonly table?: string;
  /** Create schema, table, indexes and function when missing. Default `true`. */
  readonly createTable?: boolean;
  /**
   * Longest a store call may take before it fails with `ERR_SESSION_STORE_UNAVAILABLE`, in ms.
   * Default 2000 (as Redis): a request gets a prompt 503 rather than hanging on a stopped server.
   * Writes carry their deadline (now + this), and PostgreSQL refuses a write it starts after it
   * (by its own clock: keep the clocks in sync), so a write answered 503 never lands later, not
   * even when the server was frozen and runs the queued statement on waking. The pool tessera
   * makes also sets the server's `statement_timeout` just below it, so the server cancels a
   * statement it cannot finish in time.
   */
  readonly commandTimeout?: number;
  /** Background purge of expired rows, in ms (± 10 % jitter, `unref`'d). Default 300 000; 0 disables. */
  readonly sweepInterval?: number;
  /**
   * Whether a data delta (`update`) and a touch wait for their WAL record to reach the disk.
   * Default `'off'`: they commit with `synchronous_commit = off` (set for that one transaction),
   * so a write costs one round trip and no disk flush; a crash *of the database server* can lose
   * the last fraction of a second of such changes (at most 3 × `wal_writer_delay`, 600 ms by
   * default), never corrupt anything, and never a create, a login or logout (regenerate), a
   * destroy or a revocation: those always wait for the flush. `'on'`: every write waits.
   */
  readonly synchronousCommit?: 'off' | 'on';
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export { POSTGRES_SCHEMA_VERSION, postgresSchema };

interface Row {
  key: string;
  data: Record<string, string>;
  user_id: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  absolute_expires_at: string;
  meta: SessionRecord['meta'];
  version: string;
}

/** `data` as the column keeps it: each value as its JSON text, so its key order survives jsonb. */
function encodeData(data: Readonly<Record<string, JsonValue>>): string {
  const out: Record<string, string> = {};
  for (const key of Object.keys(data)) out[key] = JSON.stringify(data[key]);
  return JSON.stringify(out);
}

/** Ops with their values as JSON text, for tessera_apply_ops. */
function encodeOps(ops: readonly AtomicOp[] = []): string {
  return JSON.stringify(
    ops.map((op) => (op.op === 'increment' ? op : { ...op, values: JSON.stringify(op.values) })),
  );
}

function toRecord(row: Row): SessionRecord {
  const data: Record<string, JsonValue> = {};
  for (const key of Object.keys(row.data)) data[key] = JSON.parse(row.data[key]!);
  // bigint arrives as a string (pg does not guess at precision); epoch ms fit a double exactly.
  return {
    data,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    meta: row.meta,
  };
}

/**
 * A PostgreSQL store on `pg`: `jsonb` data, each delta applied in one `UPDATE` under the row
 * lock (so concurrent requests never lose each other's changes), only while the row is alive
 * (so a destroyed session is never written back), prepared statements on the hot path.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createSessions } from 'tessera-session';
 * import { postgresStore } from 'tessera-session/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: postgresStore({ pool }) });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): SessionStore & {
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
} {
  const {
    pool: given,
    connectionString,
    poolConfig = {},
    schema = 'public',
    table = 'tessera_sessions',
    createTable = true,
    sweepInterval = 300_000,
    commandTimeout = 2000,
    synchronousCommit = 'off',
  } = options ?? {};
  if (synchronousCommit !== 'off' && synchronousCommit !== 'on') {
    throw new SessionConfigError(
      `postgresStore: synchronousCommit must be 'off' (data deltas and touches do not wait for the disk) or 'on'; got ${JSON.stringify(synchronousCommit)}`,
    );
  }
  if (!Number.isFinite(commandTimeout) || commandTimeout < 100) {
    throw new SessionConfigError(
      `postgresStore: commandTimeout must be a number of ms, at least 100; got ${commandTimeout}`,
    );
  }
  if ((given === undefined) === (connectionString === undefined)) {
    throw new SessionConfigError(
      `postgresStore needs exactly one of { pool: new pg.Pool(…) } or { connectionString: 'postgres://…' }`,
    );
  }
  for (const [name, value] of [
    ['schema', schema],
    ['table', table],
  ] as const) {
    if (!IDENTIFIER.test(value)) {
      throw new SessionConfigError(
        `postgresStore: ${name} ${JSON.stringify(value)} must be a lower-case SQL identifier (a-z, 0-9, _)`,
      );
    }
  }

  let poolPromise: Promise<Pool> | null = given ? Promise.resolve(given) : null;
  const getPool = () =>
    (poolPromise ??= import('pg').then(({ default: pg }) => {
      const pool = new pg.Pool({
        // Bounded waits: a request must get an answer (or a 503) rather than hang on a dead server.
        connectionTimeoutMillis: commandTimeout,
        query_timeout: commandTimeout,
        statement_timeout: Math.max(50, commandTimeout - 250),
        ...poolConfig,
        connectionString: connectionString!,
      });
      // An idle client's connection dropping (server restart) is reported here; without a
      // listener it would crash the process. The pool replaces the client by itself.
      pool.on('error', () => {});
      return pool;
    }));

  const q = postgresStatements(schema, table, synchronousCommit);
  /** A delta's write (`update`, `apply`, `regenerate`): the delta encoded, its deadline set. */
  const batched = (key: string, delta: SessionDelta, now: number): BatchedWrite => ({
    key,
    unset: delta.unset ?? [],
    set: encodeData(delta.set ?? {}),
    ops: encodeOps(delta.ops),
    expiresAt: delta.expiresAt ?? null,
    lastSeenAt: delta.lastSeenAt ?? null,
    now,
    deadline: Date.now() + commandTimeout,
  });
  /** $1–$8 of every statement that applies a delta on its own (update, apply, regenerate). */
  const writeValues = (w: BatchedWrite) => [
    w.key,
    w.unset,
    w.set,
    w.ops,
    w.expiresAt,
    w.lastSeenAt,
    w.now,
    w.deadline,
  ];

  let ready: Promise<void> | null = null;
  async function setUp(pool: Pool): Promise<void> {
    if (!createTable) return;
    const client = await pool.connect();
    try {
      // Several app processes starting at once must not race on CREATE … IF NOT EXISTS.
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `tessera:${schema}.${table}`,
      ]);
      await client.query(postgresSchema(schema, table));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Run a query; failures become ERR_SESSION_STORE_UNAVAILABLE, a dropped table is recreated once. */
  async function query<R>(
    what: string,
    config: QueryConfig,
  ): Promise<{ rows: R[]; rowCount: number }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        attempt<R>(config),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${commandTimeout} ms`)),
            commandTimeout,
          );
        }),
      ]);
    } catch (err) {
      if (err instanceof SessionError) throw err;
      const message = (err as Error).message;
      // A table made by hand for schema 2 (createTable: false) lacks schema 3's column: say how to add it.
      const fix =
        (err as { code?: string }).code === '42703' && message.includes('"version"')
          ? ` (the table predates schema 3: ALTER TABLE "${schema}"."${table}" ADD COLUMN version bigint NOT NULL DEFAULT 0)`
          : '';
      throw new SessionStoreError(`postgres: ${what} failed: ${message}${fix}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async function attempt<R>(config: QueryConfig): Promise<{ rows: R[]; rowCount: number }> {
    {
      const pool = await getPool();
      ready ??= setUp(pool).catch((err) => {
        ready = null; // retried on the next call: the database may only be starting
        throw err;
      });
      await ready;
      try {
        const result = await pool.query(config);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      } catch (err) {
        if (createTable && (err as { code?: string }).code === '42P01') {
          ready = setUp(pool);
          await ready;
          const result = await pool.query(config);
          return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
        }
        throw err;
      }
    }
  }

  /** Whether records carry their row's version: from when a cachedStore in front asks for it. */
  let versions = false;
  const recordOf = (row: Row) =>
    versions ? versioned(toRecord(row), Number(row.version)) : toRecord(row);

  async function getOne(key: string, now: number): Promise<SessionRecord | null> {
    const { rows } = await query<Row>('get', { ...q.get, values: [key, now] });
    return rows[0] ? recordOf(rows[0]) : null;
  }

  /** The request path's gets and writes, a turn's worth per statement. */
  const batches = postgresBatches<Row>({
    query,
    statements: q,
    toRecord: recordOf,
    getOne,
    async applyOne(w: BatchedWrite) {
      const { rowCount } = await query('update', { ...q.apply, values: writeValues(w) });
      return rowCount > 0;
    },
    async createOne(row: BatchedCreate) {
      const { rows } = await query<{ version: string }>('create', {
        ...q.create,
        values: [...row],
      });
      return rows[0] && Number(rows[0].version);
    },
    async applyVersionOne(w: BatchedWrite) {
      const { rows } = await query<{ version: string }>('update', {
        ...q.applyVersion,
        values: writeValues(w),
      });
      return rows[0] ? Number(rows[0].version) : null;
    },
    async updateOne(w: BatchedWrite) {
      const { rows } = await query<Row>('update', { ...q.update, values: writeValues(w) });
      return rows[0] ? recordOf(rows[0]) : null;
    },
  });

  const purge = async (now: number) =>
    (await query('purgeExpired', { ...q.purge, values: [now] })).rowCount;
  const sweep = scheduleSweep(sweepInterval, purge);

  // Its records carry their row's version once a cachedStore asks (it orders its cache by them).
  const store: ReturnType<typeof postgresStore> = {
    get(key, now) {
      return batches.get(key, now);
    },
    async create(key, r) {
      // The row's version goes with the record given (cachedStore fills its cache with both).
      const version = await batches.create(rowValues(key, r, encodeData));
      if (versions && version !== undefined) versioned(r, version);
    },
    async insert(key, r, now) {
      const { rows } = await query<{ version: string }>('insert', {
        ...q.insert,
        values: [...rowValues(key, r, encodeData), now],
      });
      if (versions && rows[0]) versioned(r, Number(rows[0].version));
      return rows.length === 1;
    },
    update(key, delta, now) {
      return batches.update(batched(key, delta, now));
    },
    apply(key, delta, now) {
      // The request path's write: the row is not sent back (nor its JSON parsed).
      return batches.apply(batched(key, delta, now));
    },
    async regenerate(oldKey, newKey, { delta, userId }, now) {
      const { rows } = await query<Row>('regenerate', {
        ...q.regenerate,
        values: [...writeValues(batched(oldKey, delta, now)), newKey, userId],
      });
      return rows[0] ? recordOf(rows[0]) : null;
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      const { rows } = await query<Row>('touch', {
        ...q.touch,
        values: [key, expiresAt, lastSeenAt, now, Date.now() + commandTimeout],
      });
      return rows[0] ? recordOf(rows[0]) : null;
    },
    async destroy(key) {
      return (await query('destroy', { ...q.destroy, values: [key] })).rowCount > 0;
    },
    async listByUser(userId, now) {
      const { rows } = await query<Row>('listByUser', { ...q.byUser, values: [userId, now] });
      return rows.map((row): StoredSession => ({ key: row.key, record: recordOf(row) }));
    },
    async destroyByUser(userId, { except, keys } = {}) {
      const { rows } = await query<{ key: string }>('destroyByUser', {
        ...q.destroyByUser,
        values: [userId, except ?? null, keys ?? null],
      });
      return rows.map((row) => row.key);
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      const { rows } = await query<{ key: string }>('destroyUserSurplus', {
        ...q.destroySurplus,
        values: [userId, now, except ?? null, Math.max(0, keep)],
      });
      return rows.map((row) => row.key);
    },
    purgeExpired: purge,
    async ping() {
      await query('ping', { text: 'SELECT 1' });
    },
    async close() {
      sweep.stop();
      await batches.settled();
      if (!given && poolPromise) await (await poolPromise).end();
    },
  };
  return offersVersions(store, {
    start() {
      versions = true;
    },
    apply: (key, delta, now) => batches.applyVersion(batched(key, delta, now)),
  });
}
