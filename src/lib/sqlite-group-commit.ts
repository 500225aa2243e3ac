/**
 * Group commit for one SQLite connection: one-statement writes queued during a turn of the event
 * loop run together at its end, inside one IMMEDIATE transaction (src/lib/turn-batch.ts).
 *
 * In WAL mode every commit takes the write lock, appends its pages and a commit frame to the log
 * and updates the shared index: system calls that cost a request's write more than the statement
 * itself (under load, 42 of a write's 66 µs of server CPU were system time). A batch pays them
 * once. Each write is still its own statement on the current row, so what it does is unchanged;
 * its promise resolves only once the batch is committed, so nothing is reported written before
 * it is. A batch that cannot run whole (another process holds the write lock, a statement fails,
 * the commit fails) is rolled back and each of its writes runs again on its own, through the
 * store's usual path (its busy retries and error handling).
 * @internal
 */
import type { StatementSync } from 'node:sqlite';
import { turnBatch } from './turn-batch.ts';

type DatabaseSync = import('node:sqlite').DatabaseSync;

interface Job {
  readonly what: string;
  readonly body: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Most writes in one transaction: bounds how long one batch holds the event loop. */
const MAX_BATCH = 256;

export interface GroupCommit {
  /** Queue a one-statement write (no transaction of its own); resolves its result once committed. */
  write<T>(what: string, body: () => T): Promise<T>;
  /** Resolves when every queued write has settled (before closing the connection). */
  settled(): Promise<void>;
}

/**
 * @param statements BEGIN IMMEDIATE, COMMIT and ROLLBACK prepared on `db` (prepared once: `exec`
 *   parses its SQL on every call).
 * @param alone how a write runs on its own: the store's path with its retries and errors.
 */
export function groupCommit(
  db: DatabaseSync,
  statements: () => {
    readonly begin: StatementSync;
    readonly commit: StatementSync;
    readonly rollback: StatementSync;
  },
  alone: <T>(what: string, body: () => T) => Promise<T>,
): GroupCommit {
  function runAlone(job: Job): Promise<void> {
    return alone(job.what, job.body).then(job.resolve, job.reject);
  }

  /** The whole batch in one transaction; `false` (rolled back, nothing resolved) when it could not. */
  function together(jobs: readonly Job[]): boolean {
    const { begin, commit, rollback } = statements();
    const results: unknown[] = [];
    try {
      begin.run();
    } catch {
      return false; // the write lock is elsewhere (or a transaction is open on this connection)
    }
    try {
      for (const job of jobs) results.push(job.body());
      commit.run();
    } catch {
      if (db.isTransaction) rollback.run();
      return false;
    }
    for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i]);
    return true;
  }

  const batch = turnBatch<Job>(async (jobs) => {
    if (jobs.length === 1 || !db.isOpen || !together(jobs)) await Promise.all(jobs.map(runAlone));
  }, MAX_BATCH);

  return {
    write<T>(what: string, body: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        batch.add({ what, body, resolve: resolve as (value: unknown) => void, reject });
      });
    },
    settled: () => batch.settled(),
  };
}
