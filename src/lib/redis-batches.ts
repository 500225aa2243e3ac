/**
 * The Redis store's request path in batches, on a single node: the gets, and the writes
 * (`apply`), made during one turn of the event loop go to Redis as one script call each
 * (READ_MANY, APPLY_MANY; src/lib/turn-batch.ts), instead of one call per request, and
 * cachedStore's reads of its entries as one MGET, its writes of them as one ENTRIES_WRITE. A script runs
 * atomically, so each write is still one atomic step on its own session, and the writes of one
 * batch run in the order they were made. Never on a Cluster: its sessions live in slots of their
 * own, which one script may not touch together.
 *
 * A batch Redis answered with an error reply (a key of another type, a script error) did
 * nothing that the reply does not say, so its jobs run again one by one and a bad one fails
 * alone; a lost connection or a timeout fails the batch's jobs, as it would have failed each.
 * @internal
 */
import type { SessionDelta, SessionRecord } from '../store.ts';
import { readRecord, writeArgs } from './redis-records.ts';
import { type BatchJob, settleBatch, turnBatch } from './turn-batch.ts';

/** Most gets or writes in one script call. */
const MAX_BATCH = 256;

interface Get extends BatchJob<SessionRecord | null> {
  readonly key: string;
  readonly now: number;
}
/** One of cachedStore's entry writes, as ENTRIES_WRITE takes it (its `mode, expected, value, ttl`). */
export interface EntryWriteArgs {
  /**
   * `s` write; `r` only while the entry is exactly `expected`; `a` only over a lower version than
   * `expected`; `p` the change `value` onto the version just below `expected`.
   */
  readonly mode: 's' | 'r' | 'a' | 'p';
  readonly expected: string;
  readonly value: string;
  /** ms */
  readonly ttl: number;
}
interface EntryWrite extends BatchJob<boolean>, EntryWriteArgs {
  readonly key: string;
}
/** ENTRIES_WRITE's arguments for one entry. */
export const entryArgs = (w: EntryWriteArgs) => [w.mode, w.expected, w.value, w.ttl];
interface Write extends BatchJob<boolean> {
  readonly key: string;
  /** The write's header (now, expiresAt, lastSeenAt) and its delta, as APPLY_ONLY takes them. */
  readonly args: (string | number)[];
}

/** Whether Redis answered with an error reply (ioredis's ReplyError), as opposed to no answer. */
function errorReply(err: unknown): boolean {
  return ((err as Error).cause as Error | undefined)?.name === 'ReplyError';
}

export function redisBatches(options: {
  /** The store's bounded, typed call (its `what` names the error). */
  readonly call: <T>(what: string, body: () => Promise<T>) => Promise<T>;
  readonly readMany: (keys: string[]) => Promise<string[]>;
  readonly applyMany: (keys: string[], args: (string | number)[]) => Promise<number[]>;
  /** MGET: cachedStore's entries (plain strings under keys of their own). */
  readonly getEntries: (keys: string[]) => Promise<(string | null)[]>;
  /** ENTRIES_WRITE: the turn's entry writes (sets, compare-and-sets, advances), 1 or 0 each. */
  readonly writeEntries: (keys: string[], args: (string | number)[]) => Promise<number[]>;
  /** A session's Redis key. */
  readonly sessionKey: (key: string) => string;
  /** A get and a write on their own. */
  readonly getOne: (key: string, now: number) => Promise<SessionRecord | null>;
  readonly applyOne: (key: string, args: (string | number)[]) => Promise<boolean>;
}) {
  const { call, readMany, applyMany, getEntries, writeEntries, sessionKey, getOne, applyOne } =
    options;

  const settle = <J extends BatchJob<never>>(
    jobs: J[],
    together: () => Promise<void>,
    alone: (job: J) => Promise<void>,
  ) => settleBatch(jobs, together, alone, errorReply);

  const gets = turnBatch<Get>(
    (jobs) =>
      settle(
        jobs,
        async () => {
          const texts = await call('get', () => readMany(jobs.map((j) => sessionKey(j.key))));
          for (let n = 0; n < jobs.length; n++)
            jobs[n]!.resolve(readRecord(texts[n]!, jobs[n]!.now));
        },
        (j) => getOne(j.key, j.now).then(j.resolve, j.reject),
      ),
    MAX_BATCH,
  );

  const writes = turnBatch<Write>(
    (jobs) =>
      settle(
        jobs,
        async () => {
          const keys = jobs.map((j) => sessionKey(j.key));
          const args = jobs.flatMap((j) => j.args);
          const alive = await call('update', () => applyMany(keys, args));
          for (let n = 0; n < jobs.length; n++) jobs[n]!.resolve(alive[n] === 1);
        },
        (j) => applyOne(j.key, j.args).then(j.resolve, j.reject),
      ),
    MAX_BATCH,
  );

  // cachedStore's reads of its entries: one MGET (a plain command, no script) per turn.
  const entryGets = turnBatch<BatchJob<string | null> & { readonly key: string }>(async (jobs) => {
    try {
      const values = await call('cache get', () => getEntries(jobs.map((j) => j.key)));
      for (let n = 0; n < jobs.length; n++) jobs[n]!.resolve(values[n] ?? null);
    } catch (err) {
      for (const job of jobs) job.reject(err);
    }
  }, MAX_BATCH);

  // ... and its writes of them (a lease, a fill over its lease): one script call per turn, in
  // the order they were made. An error reply sends each on its own (as one of a batch of one).
  const entryWrites = turnBatch<EntryWrite>(
    (jobs) =>
      settle(
        jobs,
        async () => {
          const keys = jobs.map((j) => j.key);
          const written = await call('cache write', () =>
            writeEntries(keys, jobs.flatMap(entryArgs)),
          );
          for (let n = 0; n < jobs.length; n++) jobs[n]!.resolve(written[n] === 1);
        },
        (j) =>
          call('cache write', () => writeEntries([j.key], entryArgs(j))).then(
            (written) => j.resolve(written[0] === 1),
            j.reject,
          ),
      ),
    MAX_BATCH,
  );

  return {
    /** Write an entry (`key` is its Redis key) with the turn's others, as ENTRIES_WRITE says; whether it was written. */
    writeEntry: (key: string, write: EntryWriteArgs) =>
      new Promise<boolean>((resolve, reject) =>
        entryWrites.add({ ...write, key, resolve, reject }),
      ),
    /** An entry's value (`key` is the entry's Redis key), read with the turn's others. */
    entry: (key: string) =>
      new Promise<string | null>((resolve, reject) => entryGets.add({ key, resolve, reject })),
    get: (key: string, now: number) =>
      new Promise<SessionRecord | null>((resolve, reject) =>
        gets.add({ key, now, resolve, reject }),
      ),
    apply: (key: string, delta: SessionDelta, now: number) =>
      new Promise<boolean>((resolve, reject) =>
        writes.add({ key, args: writeArgs(delta, now), resolve, reject }),
      ),
    async settled() {
      await Promise.all([
        gets.settled(),
        writes.settled(),
        entryGets.settled(),
        entryWrites.settled(),
      ]);
    },
  };
}
