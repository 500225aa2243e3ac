/**
 * The PostgreSQL store's request path in batches: the gets, and the writes (`apply`, `update`), made during
 * one turn of the event loop go to the server as one statement each (src/lib/turn-batch.ts):
 * one round trip and one statement for the server to run instead of one per request, which was
 * most of the cost of both (the driver's work in the app, the statement's in the server).
 *
 * A batch the server refuses for something in it (an SQLSTATE that is not a lost connection, a
 * cancelled statement or a server in trouble) did nothing, so its jobs run again one by one and
 * a bad one fails alone. A lost connection or a timeout fails the batch's jobs, as it would have
 * failed each of them.
 * @internal
 */
import type { QueryConfig } from 'pg';
import type { SessionRecord } from '../store.ts';
import { type BatchJob, settleBatch, turnBatch } from './turn-batch.ts';

/** Most gets or writes in one statement. */
const MAX_BATCH = 256;

type Job<T> = BatchJob<T>;
interface Get extends Job<SessionRecord | null> {
  readonly key: string;
  readonly now: number;
}
/** A write: its key and the delta's values in the statement's encoding (JSON texts). */
export interface BatchedWrite {
  readonly key: string;
  readonly unset: readonly string[];
  /** The `set` keys as the store encodes data (a JSON object of JSON texts). */
  readonly set: string;
  /** The atomic operations as the store encodes them (a JSON array). */
  readonly ops: string;
  readonly expiresAt: number | null;
  readonly lastSeenAt: number | null;
  readonly now: number;
  /** Epoch ms after which the server must not start the write. */
  readonly deadline: number;
}
interface Write<T> extends Job<T> {
  readonly write: BatchedWrite;
}

/** A create: its row as `create` writes it (data and meta as JSON texts). */
export interface BatchedCreate {
  readonly key: string;
  readonly data: string;
  readonly userId: string | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly meta: string;
}
interface Create extends Job<void> {
  readonly row: BatchedCreate;
}

/** One create's object in the batch's JSON. */
function createJson(c: BatchedCreate, i: number): string {
  return `{"i":${i},"key":${JSON.stringify(c.key)},"data":${c.data},"user_id":${JSON.stringify(c.userId)},"created_at":${c.createdAt},"last_seen_at":${c.lastSeenAt},"expires_at":${c.expiresAt},"absolute_expires_at":${c.absoluteExpiresAt},"meta":${c.meta}}`;
}

/**
 * Whether PostgreSQL itself refused a statement: an SQLSTATE outside the classes of a lost
 * connection (08), insufficient resources (53), a cancelled or timed-out statement or a shutdown
 * (57), a system error (58) or an internal one (XX). Nothing was done then, and each part may be
 * tried alone.
 */
function refusedByServer(err: unknown): boolean {
  const code = ((err as Error).cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.length === 5 && !/^(08|53|57|58|XX)/.test(code);
}

/** The jobs split into the first of each key (one statement's) and the repeats (each on its own, after). */
function firstOfEachKey<J>(jobs: readonly J[], keyOf: (job: J) => string): [J[], J[]] {
  const seen = new Set<string>();
  const first: J[] = [];
  const repeats: J[] = [];
  for (const job of jobs) {
    const key = keyOf(job);
    if (seen.has(key)) repeats.push(job);
    else {
      seen.add(key);
      first.push(job);
    }
  }
  return [first, repeats];
}

/** One write's object in the batch's JSON (the statement reads it with jsonb_to_recordset). */
function writeJson(w: BatchedWrite, i: number): string {
  return `{"i":${i},"key":${JSON.stringify(w.key)},"unset":${JSON.stringify(w.unset)},"set":${w.set},"ops":${w.ops},"expires_at":${w.expiresAt ?? null},"last_seen_at":${w.lastSeenAt ?? null},"now":${w.now},"deadline":${w.deadline}}`;
}

export function postgresBatches<Row>(options: {
  /** The store's query runner (bounded, errors typed). */
  readonly query: <R>(what: string, config: QueryConfig) => Promise<{ rows: R[] }>;
  readonly statements: {
    readonly getMany: QueryConfig;
    readonly applyMany: QueryConfig;
    readonly updateMany: QueryConfig;
    readonly createMany: QueryConfig;
  };
  readonly toRecord: (row: Row) => SessionRecord;
  /** A get and a write on their own (the statements a batch of one sends). */
  readonly getOne: (key: string, now: number) => Promise<SessionRecord | null>;
  readonly applyOne: (write: BatchedWrite) => Promise<boolean>;
  readonly updateOne: (write: BatchedWrite) => Promise<SessionRecord | null>;
  readonly createOne: (row: BatchedCreate) => Promise<void>;
}) {
  const { query, statements, toRecord, getOne, applyOne, updateOne, createOne } = options;

  const settle = <J extends BatchJob<never>>(
    jobs: J[],
    together: () => Promise<void>,
    alone: (job: J) => Promise<void>,
  ) => settleBatch(jobs, together, alone, refusedByServer);

  const gets = turnBatch<Get>(
    (jobs) =>
      settle(
        jobs,
        async () => {
          const { rows } = await query<Row & { i: string }>('get', {
            ...statements.getMany,
            values: [jobs.map((j) => j.key), jobs.map((j) => j.now)],
          });
          const found = new Map(rows.map((row) => [Number(row.i), row]));
          for (let n = 0; n < jobs.length; n++) {
            const row = found.get(n + 1);
            jobs[n]!.resolve(row ? toRecord(row) : null);
          }
        },
        (j) => getOne(j.key, j.now).then(j.resolve, j.reject),
      ),
    MAX_BATCH,
  );

  /**
   * Writes of one turn in one statement (`statement`, whose rows carry each write's place `i`);
   * `fromRows` reads each answered write's result, `missing` is the result of one not answered
   * (gone or expired).
   */
  function writeBatch<T>(
    what: string,
    statement: QueryConfig,
    alone: (write: BatchedWrite) => Promise<T>,
    fromRows: (rows: (Row & { i: string })[]) => Map<number, T>,
    missing: T,
  ) {
    const batches = turnBatch<Write<T>>(async (jobs) => {
      // One statement updates a row once: a key written twice in one turn goes on its own.
      const [batch, again] = firstOfEachKey(jobs, (j) => j.write.key);
      const one = (j: Write<T>) => alone(j.write).then(j.resolve, j.reject);
      await settle(
        batch,
        async () => {
          const { rows } = await query<Row & { i: string }>(what, {
            ...statement,
            values: [`[${batch.map((j, n) => writeJson(j.write, n + 1)).join(',')}]`],
          });
          const results = fromRows(rows);
          for (let n = 0; n < batch.length; n++) {
            const result = results.get(n + 1);
            batch[n]!.resolve(result === undefined ? missing : result);
          }
        },
        one,
      );
      for (const job of again) await one(job);
    }, MAX_BATCH);
    return {
      write: (write: BatchedWrite) =>
        new Promise<T>((resolve, reject) => batches.add({ write, resolve, reject })),
      settled: () => batches.settled(),
    };
  }

  const applies = writeBatch(
    'update',
    statements.applyMany,
    applyOne,
    (rows) => new Map(rows.map((row) => [Number(row.i), true])),
    false,
  );
  const updates = writeBatch<SessionRecord | null>(
    'update',
    statements.updateMany,
    updateOne,
    (rows) => new Map(rows.map((row) => [Number(row.i), toRecord(row)])),
    null,
  );

  // Creates: one statement, and one commit (a create always waits for its WAL flush), per turn.
  // A key created twice in one turn goes on its own after the batch (one INSERT … ON CONFLICT
  // may not touch a row twice).
  const creates = turnBatch<Create>(async (jobs) => {
    const [batch, again] = firstOfEachKey(jobs, (j) => j.row.key);
    const one = (j: Create) => createOne(j.row).then(j.resolve, j.reject);
    await settle(
      batch,
      async () => {
        await query('create', {
          ...statements.createMany,
          values: [`[${batch.map((j, n) => createJson(j.row, n + 1)).join(',')}]`],
        });
        for (const job of batch) job.resolve();
      },
      one,
    );
    for (const job of again) await one(job);
  }, MAX_BATCH);

  return {
    /** `create`: written (and flushed) once the turn's batch is committed. */
    create: (row: BatchedCreate) =>
      new Promise<void>((resolve, reject) => creates.add({ row, resolve, reject })),
    get: (key: string, now: number) =>
      new Promise<SessionRecord | null>((resolve, reject) =>
        gets.add({ key, now, resolve, reject }),
      ),
    /** `apply`: whether the record was alive. */
    apply: applies.write,
    /** `update`: the record after the write, or `null`. */
    update: updates.write,
    async settled() {
      await Promise.all([gets.settled(), applies.settled(), updates.settled(), creates.settled()]);
    },
  };
}
