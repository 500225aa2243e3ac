import { Worker } from 'node:worker_threads';

/**
 * How often the store's thread copies the write-ahead log into the database file, in ms.
 * SQLite's own automatic checkpoint runs inside whichever commit pushes the log past 1000 pages:
 * 40–80 ms of copying and `fsync` on the event loop of the request that happened to commit then
 * (measured: the longest block of a chunked purge or revocation, and of an ordinary write under
 * load). Here it runs on a thread of its own, every 100 ms, so the log stays as short as before.
 */
const CHECKPOINT_INTERVAL = 100;

/**
 * Longest the thread waits for the write lock before a purge batch (SQLite's busy handler, on
 * the thread, not on the event loop). Past it, the purge fails and the caller runs it itself.
 */
const PURGE_LOCK_WAIT = 5_000;

// CommonJS, run with `eval`: no file to resolve next to this one in the built package. A PASSIVE
// checkpoint never waits for a lock and never blocks a writer (SQLite never calls the busy
// handler for it); when the log has nothing new it returns at once. A failure (another process
// checkpointing, the file gone) is tried again later.
//
// A purge goes a batch at a time, with a pause after each as long as the batch took (at least
// 4 ms), so the event loop's own writes, which retry on a timer when the lock is taken, get in
// between; checkpoints run in the pauses. Deleting a row rewrites its page into the log: with
// the rows of expired sessions spread over the file, a batch of 200 writes ~1 MB, and the
// kernel may hold the writer while it writes back (measured: 20–80 ms of wall time for 2–11 ms
// of CPU). Here that wait holds this thread, not the requests.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = ' + workerData.lockWait);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => { try { checkpoint.get(); } catch {} }, workerData.interval);
const purges = new Map();
let stopping = false;
async function purge({ id, sql, now, batch }) {
  let removed = 0;
  try {
    let statement = purges.get(sql);
    if (!statement) purges.set(sql, (statement = db.prepare(sql)));
    for (;;) {
      const started = performance.now();
      const n = Number(statement.run(now).changes);
      removed += n;
      if (n < batch || stopping) break;
      const took = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, Math.max(4, took)));
    }
    parentPort.postMessage({ id, removed });
  } catch (err) {
    parentPort.postMessage({ id, removed, error: String(err && err.message || err) });
  }
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return void purge(message);
  stopping = true;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

/** What the thread answers a purge: rows deleted, and the error that stopped it, if one did. */
interface PurgeAnswer {
  readonly id: number;
  readonly removed: number;
  readonly error?: string;
}

/**
 * The store's thread: checkpoints of a SQLite file's log, and purges of expired rows off the
 * event loop. `stop` ends it (its connection closed).
 */
export interface Checkpointer {
  /**
   * Run the purge statement `sql` (up to `batch` rows expired at `now`) on the thread until a
   * batch deletes fewer than `batch`. Resolves the rows deleted; rejects with a ThreadPurgeError
   * (how many were deleted before) when the thread is gone or a statement failed, so the caller
   * can purge the rest itself.
   */
  purge(sql: string, now: number, batch: number): Promise<number>;
  stop(): Promise<void>;
}

/** A purge the thread could not finish: `removed` rows went before it stopped. */
export class ThreadPurgeError extends Error {
  readonly removed: number;
  constructor(message: string, removed: number) {
    super(message);
    this.removed = removed;
  }
}

/**
 * Start the thread for `path` (`unref`'d: it never keeps the process alive). `onFail` runs if
 * the thread cannot run, so the caller can hand checkpoints back to SQLite.
 */
export function startCheckpointer(path: string, onFail: () => void): Checkpointer {
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { path, interval: CHECKPOINT_INTERVAL, lockWait: PURGE_LOCK_WAIT },
    // A small thread: it holds one connection, a timer and the purge statement.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    // Node 22 warns that node:sqlite is experimental once per thread: the process has said so.
    stderr: true,
  });
  worker.stderr.resume();
  worker.unref();
  let stopping = false;
  let gone = false;
  let nextId = 0;
  const pending = new Map<number, { resolve: (n: number) => void; reject: (err: Error) => void }>();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fail = () => {
    gone = true;
    for (const { reject } of pending.values())
      reject(new ThreadPurgeError('the SQLite thread stopped', 0));
    pending.clear();
    if (!stopping) onFail();
  };
  worker.once('error', fail);
  worker.once('exit', fail);
  worker.on('message', (answer: PurgeAnswer) => {
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    if (answer.error === undefined) waiting.resolve(answer.removed);
    else waiting.reject(new ThreadPurgeError(answer.error, answer.removed));
  });
  return {
    purge(sql, now, batch) {
      if (gone || stopping)
        return Promise.reject(new ThreadPurgeError('the SQLite thread is not running', 0));
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A purge in flight holds the thread's work, not the process: ref'd while one runs.
        worker.ref();
        worker.postMessage({ id, sql, now, batch });
      }).finally(() => {
        if (pending.size === 0) worker.unref();
      });
    },
    async stop() {
      if (stopping) return exited;
      stopping = true;
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 1000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
