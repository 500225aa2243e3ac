import { Worker } from 'node:worker_threads';

/**
 * How often the checkpoint thread copies the write-ahead log into the database file, in ms.
 * SQLite's own automatic checkpoint runs inside whichever commit pushes the log past 1000 pages:
 * 40–80 ms of copying and `fsync` on the event loop of the request that happened to commit then
 * (measured: the longest block of a chunked purge or revocation, and of an ordinary write under
 * load). Here it runs on a thread of its own, every 100 ms, so the log stays as short as before.
 */
const CHECKPOINT_INTERVAL = 100;

// CommonJS, run with `eval`: no file to resolve next to this one in the built package. A PASSIVE
// checkpoint never waits for a lock and never blocks a writer; when the log has nothing new it
// returns at once. A failure (another process checkpointing, the file gone) is tried again later.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => { try { checkpoint.get(); } catch {} }, workerData.interval);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

/** The thread that checkpoints a SQLite file's log; `stop` ends it (its connection closed). */
export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Start checkpointing `path` on a worker thread (`unref`'d: it never keeps the process alive).
 * `onFail` runs if the thread cannot run, so the caller can hand checkpoints back to SQLite.
 */
export function startCheckpointer(path: string, onFail: () => void): Checkpointer {
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { path, interval: CHECKPOINT_INTERVAL },
    // A small thread: it holds one connection and a timer.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    // Node 22 warns that node:sqlite is experimental once per thread: the process has said so.
    stderr: true,
  });
  worker.stderr.resume();
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', () => {
    if (!stopping) onFail();
  });
  worker.once('exit', () => {
    if (!stopping) onFail();
  });
  return {
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
