/**
 * The recipe apps under examples/ (other than Next.js, which has test/next.test.ts), each
 * started as its own process the way its README says, with the library installed from ../.. as a
 * user installs it (.ci/run: scripts/examples.sh), and walked over real HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './support/http.ts';
import { isCI } from './support/services.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const SECRET = 'ZXhhbXBsZXMtdGVzdC1zZWNyZXQtb2YtdGhlLXJlY2lwZXMtMDE';

function notInstalled(name: string): string | null {
  if (existsSync(join(EXAMPLES, name, 'node_modules/tessera-session'))) return null;
  const why = `examples/${name} is not installed (bash scripts/examples.sh; .ci/run does it)`;
  if (isCI) throw new Error(`${why} and CI=true requires it`);
  console.warn(`[skip] ${why}`);
  return why;
}

/** `node server.ts` in the example's folder on a free port of ours (18000-18999). */
async function startExample(name: string, port: number) {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['server.ts'], {
    cwd: join(EXAMPLES, name),
    env: { ...process.env, PORT: String(port), SESSION_SECRET: SECRET, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('listening on')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d) => (output += d));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

type Home = { views: number; userId: string | null; csrf: string; flashes: { message: string }[] };

const recipes: Array<[string, number]> = [
  ['h3', 18500],
  ['elysia', 18900],
];

describe.each(recipes)('examples/%s', (name, base) => {
  const missing = notInstalled(name);
  let app: Awaited<ReturnType<typeof startExample>>;
  beforeAll(async () => {
    if (!missing) app = await startExample(name, base + (process.pid % 90));
  });
  afterAll(async () => {
    await app?.stop();
  });
  it('counts, refuses a post without the CSRF token, logs in with a flash, logs out', async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(app.url);
    const home = async () => (await b.get('/')).json<Home>();
    const { csrf } = await home();
    const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
      b.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body }),
      });

    const refused = await post('/views');
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'ERR_SESSION_CSRF' });
    const foreign = await post('/views', { 'x-csrf-token': csrf, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await post('/views', { 'x-csrf-token': csrf })).json()).toEqual({ views: 1 });
    expect((await post('/views', { 'x-csrf-token': csrf })).json()).toEqual({ views: 2 });

    const anonymous = b.jar.get('sid');
    const login = await post('/login', { 'x-csrf-token': csrf }, JSON.stringify({ user: 'ann' }));
    expect(login.status).toBe(200);
    expect(b.jar.get('sid')).not.toBe(anonymous); // login regenerated the token
    const after = await home();
    expect(after).toMatchObject({ userId: 'ann', views: 2 });
    expect(after.flashes.map((f) => f.message)).toEqual(['Welcome, ann']);
    expect((await home()).flashes).toEqual([]); // shown once
    // the anonymous token died at login
    const old = await new Browser(app.url).request('/', { cookie: `sid=${anonymous}` });
    expect(old.json<Home>().userId).toBeNull();

    const signedIn = b.jar.get('sid');
    const out = await post('/logout', { 'x-csrf-token': after.csrf });
    expect(out.status).toBe(200);
    const replay = await new Browser(app.url).request('/', { cookie: `sid=${signedIn}` });
    expect(replay.json<Home>()).toMatchObject({ userId: null, views: 0 });
  });

  it('bad input gets a clear answer and the server keeps serving', async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(app.url);
    const { csrf } = (await b.get('/')).json<Home>();
    const bad = await b.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{}',
    });
    expect(bad.status).toBe(400);
    expect((await b.get('/')).status).toBe(200);
  });
});
