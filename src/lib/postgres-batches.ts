/**
 * The PostgreSQL store's request path in batches: the gets, the writes (`apply`, `update`) and the
 * creates made during one turn of the event loop go to the server as one statement each (src/lib/turn-batch.ts):
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

interface Get extends BatchJob<SessionRecord | null> {
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
/** A write or a create waiting for its turn's batch. */
interface Change<I, T> extends BatchJob<T> {
  readonly item: I;
}

/**
 * A create: its row as `create` writes it, in the columns' order (src/lib/row.ts `rowValues`;
 * data and meta as JSON texts).
 */
export type BatchedCreate = readonly [
  key: string,
  data: string,
  userId: string | null,
  createdAt: number,
  lastSeenAt: number,
  expiresAt: number,
  absoluteExpiresAt: number,
  meta: string,
];

/** One create's object in the batch's JSON. */
function createJson(
  [key, data, userId, created, seen, expires, absolute, meta]: BatchedCreate,
  i: number,
): string {
  return `{"i":${i},"key":${JSON.stringify(key)},"data":${data},"user_id":${JSON.stringify(userId)},"created_at":${created},"last_seen_at":${seen},"expires_at":${expires},"absolute_expires_at":${absolute},"meta":${meta}}`;
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
    readonly applyVersionMany: QueryConfig;
    readonly updateMany: QueryConfig;
    readonly createMany: QueryConfig;
  };
  readonly toRecord: (row: Row) => SessionRecord;
  /** A get and a write on their own (the statements a batch of one sends). */
  readonly getOne: (key: string, now: number) => Promise<SessionRecord | null>;
  readonly applyOne: (write: BatchedWrite) => Promise<boolean>;
  /** `applyOne` resolving the row's version after the write, `null` when gone. */
  readonly applyVersionOne: (write: BatchedWrite) => Promise<number | null>;
  readonly updateOne: (write: BatchedWrite) => Promise<SessionRecord | null>;
  /** Resolves the row's version (src/lib/record-version.ts). */
  readonly createOne: (row: BatchedCreate) => Promise<number | undefined>;
}) {
  const { query, statements, toRecord, getOne, applyOne, applyVersionOne, updateOne, createOne } =
    options;

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
   * Changes of one turn in one statement (`statement`, whose rows, if any, carry each change's
   * place `i`): `fromRows` reads each answered change's result, `missing` is the result of one not
   * answered (gone or expired). One statement changes a row once: a key changed twice in one turn
   * has its second change run on its own, after the batch.
   */
  function changeBatch<I, T>(
    what: string,
    statement: QueryConfig,
    keyOf: (item: I) => string,
    json: (item: I, i: number) => string,
    alone: (item: I) => Promise<T>,
    fromRows: (rows: (Row & { i: string })[], items: readonly I[]) => Map<number, T>,
    missing: T,
  ) {
    const batches = turnBatch<Change<I, T>>(async (jobs) => {
      const [batch, again] = firstOfEachKey(jobs, (j) => keyOf(j.item));
      const one = (j: Change<I, T>) => alone(j.item).then(j.resolve, j.reject);
      await settle(
        batch,
        async () => {
          const { rows } = await query<Row & { i: string }>(what, {
            ...statement,
            values: [`[${batch.map((j, n) => json(j.item, n + 1)).join(',')}]`],
          });
          const results = fromRows(
            rows,
            batch.map((j) => j.item),
          );
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
      add: (item: I) => new Promise<T>((resolve, reject) => batches.add({ item, resolve, reject })),
      settled: () => batches.settled(),
    };
  }

  const writeKey = (w: BatchedWrite) => w.key;
  const applies = changeBatch(
    'update',
    statements.applyMany,
    writeKey,
    writeJson,
    applyOne,
    (rows) => new Map(rows.map((row) => [Number(row.i), true])),
    false,
  );
  const versionedApplies = changeBatch<BatchedWrite, number | null>(
    'update',
    statements.applyVersionMany,
    writeKey,
    writeJson,
    applyVersionOne,
    (rows) =>
      new Map(
        (rows as unknown as { i: string; version: string }[]).map((row) => [
          Number(row.i),
          Number(row.version),
        ]),
      ),
    null,
  );
  const updates = changeBatch<BatchedWrite, SessionRecord | null>(
    'update',
    statements.updateMany,
    writeKey,
    writeJson,
    updateOne,
    (rows) => new Map(rows.map((row) => [Number(row.i), toRecord(row)])),
    null,
  );
  // Creates wait for their WAL flush, so one statement is also one flush for the turn's creates.
  // Each resolves its row's version (0, or one more than the row it replaced), found by key: an
  // INSERT's RETURNING sees only the table's columns, and a batch has each key once.
  const creates = changeBatch<BatchedCreate, number | undefined>(
    'create',
    statements.createMany,
    (c) => c[0],
    createJson,
    createOne,
    (rows, items) => {
      const versions = new Map(
        (rows as unknown as { key: string; version: string }[]).map((row) => [
          row.key,
          Number(row.version),
        ]),
      );
      return new Map(items.map((c, n) => [n + 1, versions.get(c[0])]));
    },
    undefined,
  );

  return {
    /** `create`: written (and flushed) once the turn's batch is committed; its row's version. */
    create: creates.add,
    get: (key: string, now: number) =>
      new Promise<SessionRecord | null>((resolve, reject) =>
        gets.add({ key, now, resolve, reject }),
      ),
    /** `apply`: whether the record was alive. */
    apply: applies.add,
    /** `apply` for a cache in front: the row's version after the write, or `null`. */
    applyVersion: versionedApplies.add,
    /** `update`: the record after the write, or `null`. */
    update: updates.add,
    async settled() {
      await Promise.all([
        gets.settled(),
        applies.settled(),
        versionedApplies.settled(),
        updates.settled(),
        creates.settled(),
      ]);
    },
  };
}
