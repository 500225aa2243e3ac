/**
 * The demo's entry point: `npm start` (or `node demo/server.ts`). Reads the environment (see
 * demo/README.md), serves the app, and on SIGINT/SIGTERM stops taking requests, lets those in
 * flight finish and closes the session store.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { SessionConfigError } from '../src/index.ts';
import { createDemoApp } from './app.ts';
import { type DemoConfig, DemoConfigError, loadConfig } from './config.ts';

export interface RunningDemo {
  readonly url: string;
  readonly server: Server;
  /** Stop taking requests, wait for those in flight, close the store. */
  readonly close: () => Promise<void>;
}

/**
 * Start the demo on `config.host`:`config.port` (0: any free port).
 *
 * @example
 * ```ts
 * const demo = await startDemo(loadConfig({ ...process.env, PORT: '0', SESSION_STORE: 'memory' }));
 * console.log(demo.url);
 * await demo.close();
 * ```
 */
export async function startDemo(config: DemoConfig, cwd = process.cwd()): Promise<RunningDemo> {
  const demo = await createDemoApp(config, cwd);
  const server = serve({
    fetch: demo.app.fetch,
    port: config.port,
    hostname: config.host,
  }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await demo.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await demo.close();
      })()),
  };
}

/** The store spec without a password, for logs. */
function redact(spec: string): string {
  if (spec.startsWith('cached:')) return `cached:${spec.slice(7).split(',').map(redact).join(',')}`;
  if (!/^[a-z]+:\/\//.test(spec)) return spec;
  try {
    const url = new URL(spec);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return spec.replace(/\/\/.*@/, '//***@');
  }
}

async function main(): Promise<void> {
  let config: DemoConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof DemoConfigError)) throw err;
    console.error(`tessera demo: ${err.message}`);
    process.exit(1);
  }
  if (config.secretSource === 'generated') {
    console.log(
      'tessera demo: generated a development SESSION_SECRET and saved it in data/secret (mode 0600); set SESSION_SECRET to use your own',
    );
  } else if (config.secretSource === 'file') {
    console.log('tessera demo: using the development SESSION_SECRET kept in data/secret');
  }
  let demo: RunningDemo;
  try {
    demo = await startDemo(config);
  } catch (err) {
    // A setting tessera itself refuses (e.g. a __Host- cookie name without HTTPS), or a port in use.
    const known = err instanceof SessionConfigError || (err as NodeJS.ErrnoException).code;
    if (!known) throw err;
    console.error(`tessera demo: ${(err as Error).message}`);
    process.exit(1);
  }
  console.log(`tessera demo: listening on ${demo.url} (sessions: ${redact(config.store)})`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`tessera demo: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`tessera demo: ${signal}, finishing requests in flight and closing the store`);
    // Connections a client keeps open must not hold the process forever.
    setTimeout(() => demo.server.closeAllConnections(), 5000).unref();
    demo.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('tessera demo: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.main) await main();
