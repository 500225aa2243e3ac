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
import { freePort, ownRedis } from './support/own-servers.ts';
import { isCI } from './support/services.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const SECRET = 'ZXhhbXBsZXMtdGVzdC1zZWNyZXQtb2YtdGhlLXJlY2lwZXMtMDE';

/** A recipe app: its folder, what `node` runs there (its README's start command), a port base. */
interface Recipe {
  readonly name: string;
  readonly start: readonly string[];
  readonly port: number;
  /** It keeps its sessions in Redis when given REDIS_URL (to be walked through an outage). */
  readonly redis?: boolean;
}

function notInstalled({ name, start }: Recipe): string | null {
  const dir = join(EXAMPLES, name);
  if (existsSync(join(dir, 'node_modules/tessera-session')) && existsSync(join(dir, start[0]!)))
    return null;
  const why = `examples/${name} is not installed and built (bash scripts/examples.sh; .ci/run does it)`;
  if (isCI) throw new Error(`${why} and CI=true requires it`);
  console.warn(`[skip] ${why}`);
  return why;
}

/** The app's start command in its folder, on a free port of ours (18000-19199), once it answers. */
async function startExample(
  { name, start }: Recipe,
  port: number,
  env: Record<string, string> = {},
) {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [...start], {
    cwd: join(EXAMPLES, name),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ORIGIN: `http://127.0.0.1:${port}`, // adapter-node's own origin (it assumes https otherwise)
      SESSION_SECRET: SECRET,
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  // Ready when it answers (each framework words its start-up line its own way).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${url}/favicon.ico`);
      break;
    } catch {
      if (i > 300) throw new Error(`${name} did not answer:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/**
 * `recipe` started on a Redis of its own (with `REDIS_URL`), which the test may stop and start;
 * set up and torn down around the describe block that calls it.
 */
function onOwnRedis(recipe: Recipe) {
  const own = {} as {
    redis: Awaited<ReturnType<typeof ownRedis>>;
    app: Awaited<ReturnType<typeof startExample>>;
  };
  beforeAll(async () => {
    if (notInstalled(recipe)) return;
    own.redis = await ownRedis();
    own.app = await startExample(recipe, await freePort(), { REDIS_URL: own.redis.url });
  });
  afterAll(async () => {
    await own.app?.stop();
    await own.redis?.destroy();
  });
  return own;
}

type Home = { views: number; userId: string | null; csrf: string; flashes: { message: string }[] };

/** The JSON recipes: GET / and POST /views, /login, /logout, the same contract in each. */
const recipes: Recipe[] = [
  { name: 'h3', start: ['server.ts'], port: 18500 },
  { name: 'elysia', start: ['server.ts'], port: 18900 },
  // NestJS compiled by tsc to CommonJS (`"module": "commonjs"`), started as Nest's README says.
  { name: 'nest-express', start: ['dist/main.js'], port: 18600, redis: true },
  { name: 'nest-fastify', start: ['dist/main.js'], port: 18700, redis: true },
];

describe.each(recipes)('examples/$name', (recipe) => {
  const missing = notInstalled(recipe);
  let app: Awaited<ReturnType<typeof startExample>>;
  beforeAll(async () => {
    if (!missing) app = await startExample(recipe, recipe.port + (process.pid % 90));
  });
  afterAll(async () => {
    await app?.stop();
  });
  it('counts, refuses a post without the CSRF token, logs in with a flash, logs out', async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(app.url);
    const home = async () => (await b.get('/')).json<Home>();
    const first = await b.get('/');
    expect(first.setCookies.some((c) => /^sid=[^;]+;.*HttpOnly/.test(c))).toBe(true);
    const { csrf } = first.json<Home>();
    // A JSON body always (Fastify refuses an empty one with content-type JSON before any hook).
    const post = (path: string, headers: Record<string, string> = {}, body = '{}') =>
      b.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
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

describe.each(recipes.filter((r) => r.redis))('examples/$name, Redis down', (recipe) => {
  const missing = notInstalled(recipe);
  const own = onOwnRedis(recipe);

  it("answers 503 with tessera's body (not the framework's 500) while the store is down, then recovers", async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(own.app.url);
    const { csrf } = (await b.get('/')).json<Home>();
    const count = () =>
      b.request('/views', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: '{}',
      });
    expect((await count()).json()).toEqual({ views: 1 });

    await own.redis.stop();
    const read = await b.get('/'); // the load fails, in the controller
    expect(read.status).toBe(503);
    expect(read.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
    const guarded = await count(); // the load fails, in the CSRF guard
    expect(guarded.status).toBe(503);
    // A new visitor: its first page needs no store (a stateless CSRF token), its login's write
    // fails after the handler ran: the commit's error, through the same filter.
    const fresh = new Browser(own.app.url);
    const page = await fresh.get('/');
    expect(page.status).toBe(200);
    const login = await fresh.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': page.json<Home>().csrf },
      body: JSON.stringify({ user: 'ann' }),
    });
    expect(login.status).toBe(503);
    expect(login.json<{ error: string }>().error).toMatch(
      /^ERR_SESSION_(STORE_UNAVAILABLE|OUTCOME_UNKNOWN)$/,
    );
    expect(login.setCookies).toEqual([]); // no cookie for a session that was not stored

    await own.redis.start();
    let back = await count();
    for (let i = 0; i < 50 && back.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100)); // ioredis reconnects on its own schedule
      back = await count();
    }
    expect(back.json()).toEqual({ views: 2 }); // kept across the restart (saved on shutdown)
  });
});

/**
 * The form recipes: a server-rendered page with plain HTML forms (no client script needed),
 * posted as a browser posts them (urlencoded, with its Origin, asking for HTML).
 */
interface FormRecipe extends Recipe {
  /** Where the form for one action posts, and the fields the framework routes it by. */
  readonly action: (name: string) => { path: string; fields?: Record<string, string> };
  /**
   * The status of a post with a foreign Origin. Both frameworks refuse it themselves before any
   * app code runs (SvelteKit 403, React Router 400); tessera's own refusal is the next case.
   */
  readonly foreignOrigin: number;
}

const formRecipes: FormRecipe[] = [
  {
    name: 'sveltekit',
    start: ['build'],
    port: 19000,
    action: (name) => ({ path: `/?/${name}` }),
    foreignOrigin: 403,
    redis: true,
  },
  {
    // react-router-serve ./build/server/index.js (the app's npm start), one action routed by intent
    name: 'react-router',
    start: ['node_modules/@react-router/serve/bin.js', 'build/server/index.js'],
    port: 19100,
    action: (name) => ({ path: '/?index', fields: { intent: name } }),
    foreignOrigin: 400,
    redis: true,
  },
];

/** What the page shows: the counter, who is signed in, the form token, the flashes. */
function readPage(html: string) {
  return {
    views: Number(/id="views">(\d+)</.exec(html)?.[1]),
    user: /id="user">([^<]*)</.exec(html)?.[1] ?? null,
    csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '',
    flashes: [...html.matchAll(/class="flash">([^<]*)</g)].map((m) => m[1]),
  };
}

describe.each(formRecipes)('examples/$name', (recipe) => {
  const missing = notInstalled(recipe);
  let app: Awaited<ReturnType<typeof startExample>>;
  beforeAll(async () => {
    if (!missing) app = await startExample(recipe, recipe.port + (process.pid % 90));
  });
  afterAll(async () => {
    await app?.stop();
  });

  const submit = (
    b: Browser,
    name: string,
    fields: Record<string, string>,
    headers: Record<string, string | undefined> = {},
  ) => {
    const { path, fields: routing = {} } = recipe.action(name);
    const sent: Record<string, string> = {};
    const all = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      origin: app.url,
      ...headers,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) sent[k] = v;
    return b.request(path, {
      method: 'POST',
      headers: sent,
      body: new URLSearchParams({ ...routing, ...fields }).toString(),
    });
  };

  it('counts, refuses cross-site and tokenless posts, logs in (new cookie) with a flash, logs out', async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(app.url);
    const first = await b.get('/');
    expect(first.status).toBe(200);
    expect(first.setCookies.some((c) => /^sid=[^;]+;.*HttpOnly/.test(c))).toBe(true);
    const start = readPage(first.body);
    expect(start).toMatchObject({ views: 0, user: null });
    const { csrf } = start;
    expect(csrf).not.toBe('');

    const foreign = await submit(b, 'count', { _csrf: csrf }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(recipe.foreignOrigin);
    // No Origin, but the browser says cross-site (tessera's Sec-Fetch-Site check; SvelteKit
    // already refuses a form post without an Origin).
    const crossSite = await submit(
      b,
      'count',
      { _csrf: csrf },
      { origin: undefined, 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    const tokenless = await submit(b, 'count', {});
    expect(tokenless.status).toBe(403);
    expect(tokenless.body).toContain('ERR_SESSION_CSRF'); // tessera's check, not the framework's
    expect(readPage((await b.get('/')).body).views).toBe(0); // none of the three counted
    expect((await submit(b, 'count', { _csrf: csrf })).status).toBe(303);
    expect(readPage((await b.get('/')).body).views).toBe(1);
    expect((await submit(b, 'count', { _csrf: csrf })).status).toBe(303);
    expect(readPage((await b.get('/')).body).views).toBe(2);

    const anonymous = b.jar.get('sid');
    expect((await submit(b, 'login', { _csrf: csrf, user: 'ann' })).status).toBe(303);
    expect(b.jar.get('sid')).not.toBe(anonymous); // login regenerated the token
    const after = readPage((await b.get('/')).body);
    expect(after).toMatchObject({ user: 'ann', views: 2, flashes: ['Welcome, ann'] });
    expect(readPage((await b.get('/')).body).flashes).toEqual([]); // shown once
    // the anonymous token died at login
    const old = await new Browser(app.url).request('/', { cookie: `sid=${anonymous}` });
    expect(readPage(old.body).user).toBeNull();

    const signedIn = b.jar.get('sid');
    expect((await submit(b, 'logout', { _csrf: after.csrf })).status).toBe(303);
    const replay = await new Browser(app.url).request('/', { cookie: `sid=${signedIn}` });
    expect(readPage(replay.body)).toMatchObject({ user: null, views: 0 });
  });

  it('bad input gets a clear answer and the server keeps serving', async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(app.url);
    const { csrf } = readPage((await b.get('/')).body);
    expect((await submit(b, 'login', { _csrf: csrf })).status).toBe(400);
    expect((await b.get('/')).status).toBe(200);
  });
});

describe.each(formRecipes.filter((r) => r.redis))('examples/$name, Redis down', (recipe) => {
  const missing = notInstalled(recipe);
  const own = onOwnRedis(recipe);

  it("answers 503 with tessera's code (not the framework's 500) while the store is down, then recovers", async (ctx) => {
    if (missing) return ctx.skip();
    const b = new Browser(own.app.url);
    const { csrf } = readPage((await b.get('/')).body);
    const { path, fields = {} } = recipe.action('count');
    const count = () =>
      b.request(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'text/html',
          origin: own.app.url,
        },
        body: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
      });
    expect((await count()).status).toBe(303);

    await own.redis.stop();
    const read = await b.get('/'); // the load fails, in the page's loader
    expect(read.status).toBe(503);
    expect(read.body).toContain('ERR_SESSION_STORE_UNAVAILABLE');
    const action = await count(); // the load fails, in the action's CSRF check
    expect(action.status).toBe(503);
    expect(action.body).toContain('ERR_SESSION_STORE_UNAVAILABLE');
    // A new visitor: its first page needs no store (a stateless CSRF token), its login's write
    // fails after the action ran: the commit's error, answered by withSessions.
    const fresh = new Browser(own.app.url);
    const page = await fresh.get('/');
    expect(page.status).toBe(200);
    const { path: loginPath, fields: loginFields = {} } = recipe.action('login');
    const login = await fresh.request(loginPath, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
        origin: own.app.url,
      },
      body: new URLSearchParams({
        ...loginFields,
        _csrf: readPage(page.body).csrf,
        user: 'ann',
      }).toString(),
    });
    expect(login.status).toBe(503);
    expect(login.body).toMatch(/ERR_SESSION_(STORE_UNAVAILABLE|OUTCOME_UNKNOWN)/);
    expect(login.setCookies).toEqual([]); // no cookie for a session that was not stored

    await own.redis.start();
    let back = await count();
    for (let i = 0; i < 50 && back.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100)); // ioredis reconnects on its own schedule
      back = await count();
    }
    expect(back.status).toBe(303);
    expect(readPage((await b.get('/')).body).views).toBe(2); // kept across the restart
  });
});
