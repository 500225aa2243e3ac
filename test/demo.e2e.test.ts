/**
 * The demo app, end to end: every flow of demo/README.md walked in headless Chromium (Debian's
 * /usr/bin/chromium, never a downloaded build), with independent browser contexts standing in
 * for different browsers. Without Chromium the browser suite is skipped on a laptop and fails
 * under CI=true. The entry point itself (`node demo/server.ts`) runs as a child process, and
 * every store of SESSION_STORE serves the home page.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../demo/config.ts';
import { type RunningDemo, startDemo } from '../demo/server.ts';
import { Browser as HttpClient } from './support/http.ts';
import { DATABASE_URL, MYSQL_URL, REDIS_URL, serviceUnavailable } from './support/services.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SERVER = fileURLToPath(new URL('../demo/server.ts', import.meta.url));
const SECRET = 'e2e-secret-of-the-demo-0123456789abcdef';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
  dirs.push(dir);
  return dir;
}

async function start(env: Record<string, string> = {}): Promise<RunningDemo> {
  const cwd = tempDir();
  const config = loadConfig(
    {
      PORT: '0',
      SESSION_SECRET: SECRET,
      SESSION_STORE: `sqlite:${join(cwd, 'sessions.db')}`,
      ...env,
    },
    { cwd },
  );
  return startDemo(config, cwd);
}

const running: RunningDemo[] = [];
afterAll(async () => {
  await Promise.all(running.map((d) => d.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const noRedis = await serviceUnavailable('Redis', async () => {
  const { Redis } = await import('ioredis');
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  try {
    await probe.connect();
  } finally {
    probe.disconnect();
  }
});
const noPostgres = await serviceUnavailable('PostgreSQL', async () => {
  const pg = (await import('pg')).default;
  const probe = new pg.Client({ connectionString: DATABASE_URL });
  try {
    await probe.connect();
  } finally {
    await probe.end().catch(() => {});
  }
});
const noMysql = await serviceUnavailable('MariaDB/MySQL', async () => {
  const mysql = (await import('mysql2/promise')).default;
  const probe = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
  await probe.end();
});

// --- the browser flows ------------------------------------------------------------------------

let browser: Browser | null = null;
const noBrowser = await serviceUnavailable(
  'Chromium',
  async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  },
  20_000,
);

describe.skipIf(noBrowser !== null)('demo app in Chromium', () => {
  let demo: RunningDemo;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    demo = await start();
    running.push(demo);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
  });

  /** A fresh browser profile: its own cookies, as a second browser would have. */
  async function newContext(userAgent?: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({
      baseURL: demo.url,
      ...(userAgent ? { userAgent } : {}),
    });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  async function sid(context: BrowserContext): Promise<string | undefined> {
    return (await context.cookies()).find((c) => c.name === 'sid')?.value;
  }

  async function csrf(page: Page): Promise<string> {
    return page.locator('input[name="_csrf"]').first().inputValue();
  }

  async function likes(page: Page): Promise<string[]> {
    return page.locator('#likes li').allTextContents();
  }

  async function login(page: Page, username: string, password: string) {
    await page.goto('/login');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Log in', exact: true }).click(),
    ]);
    await page.waitForLoadState();
    return response;
  }

  it('sends the security headers', async () => {
    const { page } = await newContext();
    const response = await page.goto('/');
    const headers = response!.headers();
    expect(response!.status()).toBe(200);
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(headers['x-frame-options']).toBe('DENY');
    // The stylesheet is allowed by the policy and applied (no inline style to be blocked).
    const bg = await page.locator('body').evaluate((body) => {
      const view = body.ownerDocument.defaultView as unknown as {
        getComputedStyle(e: unknown): { backgroundColor: string };
      };
      return view.getComputedStyle(body).backgroundColor;
    });
    expect(bg).toBe('rgb(245, 246, 248)');
  });

  it('likes: two browsers never see each other’s likes', async () => {
    const a = await newContext();
    const b = await newContext();
    await a.page.goto('/');
    await a.page.getByPlaceholder('e.g. tea').fill('green tea');
    await a.page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => likes(a.page)).toEqual(['green tea']);
    await expect(a.page.locator('.flash').textContent()).resolves.toContain('green tea');

    await b.page.goto('/');
    expect(await likes(b.page)).toEqual([]);
    await expect(b.page.locator('#no-likes').isVisible()).resolves.toBe(true);
    await b.page.getByPlaceholder('e.g. tea').fill('<b>coffee</b>');
    await b.page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => likes(b.page)).toEqual(['<b>coffee</b>']); // escaped, shown as text
    expect(await b.page.locator('#likes b').count()).toBe(0);

    await a.page.reload();
    expect(await likes(a.page)).toEqual(['green tea']);
    expect(await sid(a.context)).not.toBe(await sid(b.context));
  });

  /**
   * Twenty likes posted at once from one browser. With SQLite or memory a request's load and
   * commit run without an I/O wait between them, so even a read-modify-write would survive;
   * against Redis and PostgreSQL the requests really interleave and only the atomic `push`
   * keeps all twenty (a `set` of the read list keeps about half).
   */
  async function twentyLikes(url: string) {
    const context = await browser!.newContext({ baseURL: url });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/');
    const token = await csrf(page);
    const sent = Array.from({ length: 20 }, (_, i) => `like-${i}`);
    const responses = await Promise.all(
      sent.map((like) =>
        context.request.post('/likes', { form: { likes: like, _csrf: token }, maxRedirects: 0 }),
      ),
    );
    for (const r of responses) {
      expect(r.status()).toBe(303);
      expect(r.headers()['location']).toBe('/');
    }
    await page.reload();
    const seen = await likes(page);
    expect(seen).toHaveLength(20);
    expect([...seen].sort()).toEqual([...sent].sort());
  }

  it('likes: twenty posted at the same moment all count (SQLite)', () => twentyLikes(demo.url));

  for (const [name, store, unavailable] of [
    ['Redis', REDIS_URL, noRedis],
    ['PostgreSQL', DATABASE_URL, noPostgres],
    ['MariaDB', MYSQL_URL, noMysql],
  ] as const) {
    it(`likes: twenty posted at the same moment all count (${name})`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      const networked = await start({ SESSION_STORE: store });
      running.push(networked);
      await twentyLikes(networked.url);
    });
  }

  it('forget me: the session and its likes are gone, the old cookie is worthless', async () => {
    const { context, page } = await newContext();
    await page.goto('/');
    await page.getByPlaceholder('e.g. tea').fill('scones');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => likes(page)).toEqual(['scones']);
    const before = await sid(context);

    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/forget')),
      page.getByRole('button', { name: 'Forget me' }).click(),
    ]);
    expect(response.status()).toBe(303);
    expect(await response.headerValue('set-cookie')).toMatch(/^sid=;.*Max-Age=0/);
    await page.waitForURL(/\/\?notice=forgotten$/);
    await expect(page.locator('.flash').textContent()).resolves.toContain('Forgotten');
    expect(await likes(page)).toEqual([]);
    const after = await sid(context);
    expect(after).toBeDefined(); // the page after the redirect starts a new, empty session
    expect(after).not.toBe(before);

    const replay = await newContext();
    await replay.context.addCookies([{ name: 'sid', value: before!, url: demo.url }]);
    await replay.page.goto('/');
    expect(await likes(replay.page)).toEqual([]);
  });

  it('language: choosing French changes the greeting', async () => {
    const { page } = await newContext();
    await page.goto('/');
    await expect(page.locator('#greeting').textContent()).resolves.toBe('Hello, visitor!');
    await page.getByRole('combobox').selectOption('fr');
    await page.getByRole('button', { name: 'Change' }).click();
    await expect.poll(() => page.locator('#greeting').textContent()).toBe('Bonjour, visiteur !');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await page.reload();
    expect(await page.locator('#greeting').textContent()).toBe('Bonjour, visiteur !');
  });

  it('cart: add, remove one, clear; parallel adds all count', async () => {
    const { context, page } = await newContext();
    const qty = (product: string) =>
      page.locator(`#cart tr[data-product="${product}"] .qty`).textContent();
    await page.goto('/cart');
    await expect(page.locator('#cart-empty').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Add Earl Grey tea' }).click();
    await expect.poll(() => qty('tea')).toBe('1');
    await page.getByRole('button', { name: 'Add Earl Grey tea' }).click();
    await expect.poll(() => qty('tea')).toBe('2');
    await page.getByRole('button', { name: 'Add Scone' }).click();
    await expect.poll(() => qty('scone')).toBe('1');
    await expect(page.locator('#cart tfoot').textContent()).resolves.toContain('€15.80');

    await page.getByRole('button', { name: 'Remove one Earl Grey tea' }).click();
    await expect.poll(() => qty('tea')).toBe('1');
    await page.getByRole('button', { name: 'Remove one Scone' }).click();
    await expect.poll(() => page.locator('#cart tr[data-product="scone"]').count()).toBe(0);

    const token = await csrf(page);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        context.request.post('/cart/add', {
          form: { product: 'jam', _csrf: token },
          maxRedirects: 0,
        }),
      ),
    );
    await page.reload();
    expect(await qty('jam')).toBe('10');
    expect(await qty('tea')).toBe('1');

    await page.getByRole('button', { name: 'Empty the cart' }).click();
    await expect.poll(() => page.locator('#cart-empty').isVisible()).toBe(true);
    expect(await page.locator('#cart').count()).toBe(0);
  });

  it('login: wrong credentials get 401 and the form; right ones a new session id', async () => {
    const { context, page } = await newContext();
    await page.goto('/');
    await page.getByPlaceholder('e.g. tea').fill('hats');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => likes(page)).toEqual(['hats']);

    const wrong = await login(page, 'alice', 'not-her-password');
    expect(wrong.status()).toBe(401);
    await expect(page.locator('#login-error').textContent()).resolves.toContain('Wrong');
    expect(await page.getByLabel('Username').inputValue()).toBe('alice');
    const unknown = await login(page, 'mallory', 'wonderland');
    expect(unknown.status()).toBe(401);

    const before = await sid(context);
    const ok = await login(page, 'alice', 'wonderland');
    expect(ok.status()).toBe(303);
    expect(ok.headers()['location']).toBe('/dashboard');
    await page.waitForURL(/\/dashboard$/);
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect(await page.locator('#username').textContent()).toBe('alice');
    await expect(page.locator('#expires time').getAttribute('datetime')).resolves.toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
    const after = await sid(context);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);

    // The pre-login cookie died with the regeneration; the likes moved to the new session.
    // (Replayed from outside the context, whose cookie jar would take the answer's new cookie.)
    const replay = await fetch(`${demo.url}/dashboard`, {
      headers: { cookie: `sid=${before}` },
      redirect: 'manual',
    });
    expect(replay.status).toBe(303);
    await page.goto('/');
    expect(await likes(page)).toEqual(['hats']);
  });

  it('dashboard: logged out, it redirects to the login page', async () => {
    const { context, page } = await newContext();
    const response = await context.request.get('/dashboard', { maxRedirects: 0 });
    expect(response.status()).toBe(303);
    expect(response.headers()['location']).toBe('/login');
    await page.goto('/dashboard');
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.locator('.flash').textContent()).resolves.toContain('Log in');
  });

  it('logout: the cookie goes, and replaying its old value is anonymous', async () => {
    const { context, page } = await newContext();
    await login(page, 'alice', 'wonderland');
    await page.waitForURL(/\/dashboard$/);
    const old = await sid(context);

    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/logout')),
      page.getByRole('button', { name: 'Log out' }).click(),
    ]);
    expect(response.status()).toBe(303);
    expect(await response.headerValue('set-cookie')).toMatch(/^sid=;.*Max-Age=0/);
    await page.waitForURL(/\/login\?notice=logged-out$/);
    expect(await sid(context)).not.toBe(old);
    expect(await page.getByText('Signed in as').count()).toBe(0);

    const replay = await newContext();
    await replay.context.addCookies([{ name: 'sid', value: old!, url: demo.url }]);
    await replay.page.goto('/dashboard');
    expect(new URL(replay.page.url()).pathname).toBe('/login');
  });

  it('sessions: lists each browser of a user; revoke one, then all the others', async () => {
    const a = await newContext('Browser-A (e2e)');
    const b = await newContext('Browser-B (e2e)');
    const c = await newContext('Browser-C (e2e)');
    for (const { page } of [a, b, c]) {
      await login(page, 'admin', 'password123');
      await page.waitForURL(/\/dashboard$/);
    }
    const rows = a.page.locator('#sessions tbody tr');
    await a.page.goto('/sessions');
    expect(await rows.count()).toBe(3);
    const current = a.page.locator('#sessions tr.current');
    expect(await current.count()).toBe(1);
    await expect(current.textContent()).resolves.toContain('Browser-A (e2e)');
    await expect(current.textContent()).resolves.toContain('this one');

    await rows
      .filter({ hasText: 'Browser-C (e2e)' })
      .getByRole('button', { name: 'Sign out' })
      .click();
    await expect.poll(() => rows.count()).toBe(2);
    await expect(a.page.locator('.flash').textContent()).resolves.toContain('signed out');
    await c.page.goto('/dashboard');
    expect(new URL(c.page.url()).pathname).toBe('/login');
    await b.page.goto('/dashboard');
    expect(new URL(b.page.url()).pathname).toBe('/dashboard');

    await a.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await expect(a.page.locator('.flash').textContent()).resolves.toContain(
      'Signed out 1 other session.',
    );
    await b.page.goto('/dashboard');
    expect(new URL(b.page.url()).pathname).toBe('/login');
    await a.page.goto('/dashboard');
    expect(new URL(a.page.url()).pathname).toBe('/dashboard');
  });

  it('a POST without a valid _csrf, or from another origin, gets 403 and changes nothing', async () => {
    const { context, page } = await newContext();
    await page.goto('/');
    const token = await csrf(page);
    const without = await context.request.post('/likes', {
      form: { likes: 'forged' },
      maxRedirects: 0,
    });
    expect(without.status()).toBe(403);
    const wrong = await context.request.post('/likes', {
      form: { likes: 'forged', _csrf: 'x'.repeat(86) },
      maxRedirects: 0,
    });
    expect(wrong.status()).toBe(403);
    const crossSite = await context.request.post('/likes', {
      form: { likes: 'forged', _csrf: token },
      headers: { origin: 'https://evil.example' },
      maxRedirects: 0,
    });
    expect(crossSite.status()).toBe(403);
    const fine = await context.request.post('/likes', {
      form: { likes: 'kept', _csrf: token },
      maxRedirects: 0,
    });
    expect(fine.status()).toBe(303);
    await page.reload();
    expect(await likes(page)).toEqual(['kept']);
  });

  it('healthz: 200 while the store answers', async () => {
    const { context } = await newContext();
    const r = await context.request.get('/healthz');
    expect(r.status()).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('expiry: after SESSION_IDLE_TIMEOUT without a request, the dashboard asks to log in', async () => {
    const short = await start({ SESSION_IDLE_TIMEOUT: '2s' });
    running.push(short);
    const context = await browser!.newContext({ baseURL: short.url });
    contexts.push(context);
    const page = await context.newPage();
    await login(page, 'alice', 'wonderland');
    await page.waitForURL(/\/dashboard$/);
    await new Promise((r) => setTimeout(r, 1000));
    await page.goto('/dashboard'); // within the timeout: still logged in, and the expiry slides
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    await new Promise((r) => setTimeout(r, 2500));
    await page.goto('/dashboard');
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});

// --- the stores -------------------------------------------------------------------------------

/** GET /, post a like with the page's token, and see it on the next page: over plain HTTP. */
async function likeRoundTrip(demo: RunningDemo): Promise<void> {
  const client = new HttpClient(demo.url);
  const home = await client.get('/');
  expect(home.status).toBe(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
  expect(token).toBeDefined();
  const posted = await client.post('/likes', `likes=round-trip&_csrf=${token}`, {
    'content-type': 'application/x-www-form-urlencoded',
  });
  expect(posted.status).toBe(303);
  expect((await client.get('/')).body).toContain('<li>round-trip</li>');
}

describe('SESSION_STORE: every store serves the demo', () => {
  it.each(['memory', 'cookie'])('%s', async (store) => {
    const demo = await start({ SESSION_STORE: store });
    running.push(demo);
    await likeRoundTrip(demo);
  });

  it('redis://', async (ctx) => {
    if (noRedis) return ctx.skip(noRedis);
    const demo = await start({ SESSION_STORE: REDIS_URL });
    running.push(demo);
    await likeRoundTrip(demo);
  });

  it('postgres://', async (ctx) => {
    if (noPostgres) return ctx.skip(noPostgres);
    const demo = await start({ SESSION_STORE: DATABASE_URL });
    running.push(demo);
    await likeRoundTrip(demo);
  });

  it('mysql://', async (ctx) => {
    if (noMysql) return ctx.skip(noMysql);
    const demo = await start({ SESSION_STORE: MYSQL_URL });
    running.push(demo);
    await likeRoundTrip(demo);
  });

  it('cached:postgres://…,redis://…', async (ctx) => {
    if (noPostgres || noRedis) return ctx.skip(noPostgres ?? noRedis ?? '');
    const demo = await start({ SESSION_STORE: `cached:${DATABASE_URL},${REDIS_URL}` });
    running.push(demo);
    await likeRoundTrip(demo);
  });

  it('healthz: 503 when the store does not answer', async () => {
    const demo = await start({ SESSION_STORE: 'redis://127.0.0.1:1' });
    running.push(demo);
    const r = await fetch(`${demo.url}/healthz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'unavailable' });
  });
});

// --- the entry point ------------------------------------------------------------------------

interface Child {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

function runServer(cwd: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, [SERVER], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Child = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => (run.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.output += d.toString()));
  return run;
}

describe('node demo/server.ts', () => {
  it('starts from a clean directory: creates data/, a private secret, logs the URL; stops on SIGTERM', async () => {
    const cwd = tempDir();
    const run = runServer(cwd, {});
    try {
      await expect.poll(() => run.output, { timeout: 10_000 }).toMatch(/listening on http/);
      expect(run.output).toContain('generated a development SESSION_SECRET');
      expect(statSync(join(cwd, 'data', 'secret')).mode & 0o777).toBe(0o600);
      expect(existsSync(join(cwd, 'data', 'sessions.db'))).toBe(true);
      const url = /listening on (http:\/\/\S+)/.exec(run.output)![1]!;
      const home = await fetch(`${url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Hello, visitor!');
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output).toContain('SIGTERM');
  });

  it('keeps the development secret across restarts', async () => {
    const cwd = tempDir();
    for (const expected of ['generated a development', 'using the development']) {
      const run = runServer(cwd, {});
      await expect.poll(() => run.output, { timeout: 10_000 }).toMatch(/listening on http/);
      expect(run.output).toContain(expected);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    }
  });

  it('refuses to start in production without SESSION_SECRET, saying why', async () => {
    const run = runServer(tempDir(), { NODE_ENV: 'production' });
    expect(await run.exited).toBe(1);
    expect(run.output).toContain('SESSION_SECRET is required when NODE_ENV=production');
  });

  it('names the variable when a value is wrong', async () => {
    const run = runServer(tempDir(), { SESSION_IDLE_TIMEOUT: 'soon' });
    expect(await run.exited).toBe(1);
    expect(run.output).toContain('SESSION_IDLE_TIMEOUT must be a duration');
  });
});

describe('demo configuration', () => {
  const base = { SESSION_SECRET: SECRET };
  const cwd = () => tempDir();

  it('one timeout alone never makes the pair invalid; both inconsistent is an error naming both', () => {
    const absoluteOnly = loadConfig({ ...base, SESSION_ABSOLUTE_TIMEOUT: '10s' }, { cwd: cwd() });
    expect(absoluteOnly).toMatchObject({ idleTimeout: 10_000, absoluteTimeout: 10_000 });
    const idleOnly = loadConfig({ ...base, SESSION_IDLE_TIMEOUT: '24h' }, { cwd: cwd() });
    expect(idleOnly).toMatchObject({ idleTimeout: 86_400_000, absoluteTimeout: 86_400_000 });
    expect(() =>
      loadConfig(
        { ...base, SESSION_IDLE_TIMEOUT: '1h', SESSION_ABSOLUTE_TIMEOUT: '10m' },
        { cwd: cwd() },
      ),
    ).toThrow(/SESSION_ABSOLUTE_TIMEOUT .* SESSION_IDLE_TIMEOUT/);
  });

  it('defaults, and errors that name the variable', () => {
    const config = loadConfig(base, { cwd: cwd() });
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      store: 'sqlite:./data/sessions.db',
      cookieName: 'sid',
      idleTimeout: 30 * 60_000,
      secretSource: 'env',
    });
    for (const [name, value] of [
      ['PORT', 'abc'],
      ['SESSION_STORE', 'mongodb://db'],
      ['SESSION_STORE', 'cached:cookie,memory'],
      ['SESSION_SECRET', 'too-short'],
      ['SESSION_IDLE_TIMEOUT', 'soon'],
      ['SESSION_COOKIE_NAME', 'my session'],
    ] as const) {
      expect(() => loadConfig({ ...base, [name]: value }, { cwd: cwd() })).toThrow(name);
    }
  });
});
