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
