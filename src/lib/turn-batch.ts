/**
 * Jobs queued during one turn of the event loop, handed over together at its end
 * (`setImmediate`, after the turn's I/O callbacks and their promise jobs): what several requests
 * ask of a store at about the same moment goes in one statement or one transaction, and a job
 * waits for no timer. Under light load a batch is one job. A batch does not wait for the one
 * before it to settle: each turn's batch goes out at the end of its turn.
 * @internal
 */
export interface TurnBatch<J> {
  add(job: J): void;
  /** Resolves once every job queued so far has been handed over and its batch has settled. */
  settled(): Promise<void>;
}

/**
 * @param run handles one batch (at most `max` jobs, in the order they were queued); it must
 *   settle every job itself and never reject.
 */
export function turnBatch<J>(run: (jobs: J[]) => void | Promise<void>, max: number): TurnBatch<J> {
  const queue: J[] = [];
  let scheduled = false;
  const running = new Set<Promise<void>>();
  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const jobs = queue.splice(0, max);
      // A runner that threw would leave its jobs unsettled, never the process crashed.
      const done: Promise<void> = (async () => run(jobs))()
        .catch(() => {})
        .finally(() => running.delete(done));
      running.add(done);
    }
  }
  return {
    add(job) {
      queue.push(job);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    async settled() {
      while (scheduled || running.size > 0) {
        if (scheduled) await new Promise((done) => setImmediate(done));
        else await Promise.all(running);
      }
    },
  };
}

/** A job of a batch: settled by the batch's runner, one way or the other. */
export interface BatchJob<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/**
 * Run a batch: a batch of one `alone`, else `together`. When `together` fails, and `retry` says
 * the failure did nothing (the server refused something in the batch), each job runs `alone`, so
 * a bad one fails by itself; otherwise (no answer, a lost connection) every job fails with it, as
 * each would have.
 */
export async function settleBatch<J extends BatchJob<never>>(
  jobs: J[],
  together: () => Promise<void>,
  alone: (job: J) => Promise<void>,
  retry: (err: unknown) => boolean,
): Promise<void> {
  if (jobs.length === 1) return alone(jobs[0]!);
  try {
    await together();
  } catch (err) {
    if (retry(err)) await Promise.all(jobs.map(alone));
    else for (const job of jobs) job.reject(err);
  }
}
