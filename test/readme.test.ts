/**
 * The README's node:http example, run exactly as written: extracted from README.md, started as
 * its own Node process importing `tessera-session` by its public name (package self-reference to the
 * built dist/), and visited twice with the cookie it sets.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, tsBlockAfter } from './support/doc-code.ts';
import { Browser } from './support/http.ts';
import { DATABASE_URL, REDIS_URL, serviceUnavailable } from './support/services.ts';

const root = new URL('..', import.meta.url).pathname;

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

const codeAfter = (heading: string) => tsBlockAfter('README.md', heading);

let child: ChildProcess | undefined;
afterEach(() => child?.kill());

describe('README', () => {
  it('starts with the two set-up commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm install && npm start/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });

  it('the stores example runs as written against the real servers', async (ctx) => {
    const unavailable =
      (await serviceUnavailable('PostgreSQL', async () => {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.end();
      })) ??
      (await serviceUnavailable('Redis', async () => {
        const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
        try {
          await redis.connect();
        } finally {
          redis.disconnect();
        }
      }));
    if (unavailable) return ctx.skip(unavailable);
    // In a scratch folder (the SQLite file lands there) that resolves tessera and the drivers.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    mkdirSync(join(dir, 'node_modules'));
    for (const name of ['tessera-session', 'ioredis', 'pg']) {
      const target = name === 'tessera-session' ? root : join(root, 'node_modules', name);
      symlinkSync(target, join(dir, 'node_modules', name));
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    try {
      const run = spawnSync(
        process.execPath,
        ['--input-type=module-typescript', '-e', codeAfter('Stores')],
        {
          cwd: dir,
          env: {
            ...process.env,
            DATABASE_URL,
            REDIS_URL,
            SESSION_SECRET: 'readme-example-secret-0123456789abcdef',
          },
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n')).toEqual([
        'memory: ok',
        'sqlite: ok',
        'postgres: ok',
        'redis: ok',
        'cookie: ok',
      ]);
      expect(run.status).toBe(0);
      expect(existsSync(join(dir, 'sessions.db'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the node:http example runs as written', async () => {
    const code = codeAfter('node:http');
    const port = await freePort();
    child = spawn(process.execPath, ['--input-type=module-typescript', '-e', code], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const browser = new Browser(`http://localhost:${port}`);
    let first: Awaited<ReturnType<Browser['get']>> | undefined;
    for (let i = 0; i < 100 && !first; i++) {
      first = await browser.get('/').catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(first?.body, stderr).toBe('You have been here 1 time(s).\n');
    expect(first?.setCookies[0]).toMatch(/^sid=.+; HttpOnly; Secure; SameSite=Lax$/);
    // A browser asks for /favicon.ico after every page, with the cookie: not a visit.
    expect((await browser.get('/favicon.ico')).status).toBe(404);
    expect((await browser.get('/')).body).toBe('You have been here 2 time(s).\n');
  });
});
