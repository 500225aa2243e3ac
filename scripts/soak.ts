/**
 * Soak: create sessions at a steady rate against an app process whose sessions expire quickly,
 * and watch the app's memory and the store's record count. Both must level off: memory flat
 * once the first sessions start expiring, records bounded by rate × idle timeout.
 *
 *   npm run soak                         # memory store, 60 s
 *   SOAK_SECONDS=300 SOAK_STORE=sqlite npm run soak
 *
 * Not part of `npm test` (it takes minutes); `test/reliability/soak.test.ts` runs a short version.
 * Exits non-zero when the last third's memory exceeds the middle third's by more than the slack.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const rate = Number(process.env.SOAK_RATE ?? 400); // new sessions per second
const store = process.env.SOAK_STORE ?? 'memory';
const slack = Number(process.env.SOAK_SLACK ?? 0.25);

if (process.argv[2] === 'app') {
  const { createSessions } = await import('../src/lifecycle/sessions.ts');
  const { withSessions } = await import('../src/adapters/node.ts');
  const { createServer } = await import('node:http');
  let made: import('../src/store.ts').SessionStore;
  if (store === 'sqlite') {
    const { sqliteStore } = await import('../src/stores/sqlite.ts' as string);
    made = sqliteStore({ path: ':memory:', sweepInterval: 1000 });
  } else {
    const { memoryStore } = await import('../src/stores/memory.ts');
    made = memoryStore({ sweepInterval: 1000 });
  }
  const sessions = createSessions<{ n: number; pad: string }>({
    secrets: ['s'.repeat(32)],
    store: made,
    idleTimeout: '2s',
    absoluteTimeout: '4s',
    touchAfter: '500ms',
  });
  const server = createServer(
    withSessions(sessions, async (req, res, load) => {
      if (req.url === '/stats') {
        globalThis.gc?.();
        const count = 'size' in made ? (made as { size: number }).size : -1;
        res.end(JSON.stringify({ ...process.memoryUsage(), records: count }));
        return;
      }
      const s = await load();
      s.set('pad', 'x'.repeat(200));
      s.increment('n');
      res.end('ok');
    }),
  );
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['app'], {
    execArgv: ['--expose-gc', '--max-old-space-size=512'],
    env: { ...process.env, SOAK_STORE: store },
  });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (p) => resolve(p as number)),
  );
  const base = `http://127.0.0.1:${port}`;
  const samples: Array<{ t: number; heapMB: number; rssMB: number; records: number }> = [];
  let sent = 0;
  let failed = 0;
  const started = Date.now();
  const tick = setInterval(() => {
    for (let i = 0; i < rate / 10; i++) {
      sent++;
      fetch(`${base}/new`).then(
        async (r) => {
          if (!r.ok) failed++;
          await r.arrayBuffer();
        },
        () => {
          failed++;
        },
      );
    }
  }, 100);
  while (Date.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 2000));
    const stats = (await (await fetch(`${base}/stats`)).json()) as {
      heapUsed: number;
      rss: number;
      records: number;
    };
    const sample = {
      t: Math.round((Date.now() - started) / 1000),
      heapMB: +(stats.heapUsed / 2 ** 20).toFixed(1),
      rssMB: +(stats.rss / 2 ** 20).toFixed(1),
      records: stats.records,
    };
    samples.push(sample);
    console.log(
      `t=${sample.t}s heap=${sample.heapMB}MB rss=${sample.rssMB}MB records=${sample.records} sent=${sent} failed=${failed}`,
    );
  }
  clearInterval(tick);
  child.kill();
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: typeof samples) => xs.reduce((a, s) => a + s.heapMB, 0) / xs.length;
  const middle = avg(samples.slice(third, 2 * third));
  const last = avg(samples.slice(-third));
  const maxRecords = Math.max(...samples.map((s) => s.records));
  console.log(
    `heap middle third ${middle.toFixed(1)} MB, last third ${last.toFixed(1)} MB; most records at once ${maxRecords}; ${sent} sessions created, ${failed} failed`,
  );
  const flat = last <= middle * (1 + slack) + 2;
  console.log(flat ? 'memory is flat' : 'memory GREW');
  process.exit(flat && failed === 0 ? 0 : 1);
}
