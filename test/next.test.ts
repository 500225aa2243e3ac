/**
 * The Next.js example (examples/next), as a user runs it: `next build` (done by .ci/run, with
 * the library installed from ../.. as a user would install it) and `next start` on a port of
 * its own, walked over real HTTP (route handler, proxy) and in headless Chromium (login in a
 * server action, a protected page, a flash through the proxy, logout).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser as HttpClient } from './support/http.ts';
import { isCI } from './support/services.ts';

const APP = fileURLToPath(new URL('../examples/next/', import.meta.url));
const NEXT = join(APP, 'node_modules/next/dist/bin/next');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = 18000 + (process.pid % 500);

const missing = !existsSync(join(APP, '.next/BUILD_ID'))
  ? 'examples/next is not built (cd examples/next && npm ci && npm run build; .ci/run does it)'
  : null;
if (missing && isCI) throw new Error(`${missing} and CI=true requires it`);
if (missing) console.warn(`[skip] ${missing}`);

describe.skipIf(missing)('examples/next (next start)', () => {
  let child: ChildProcess;
  let dir: string;
  const url = `http://127.0.0.1:${PORT}`;
  let output = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'next-example-'));
    child = spawn(process.execPath, [NEXT, 'start', '-p', String(PORT), '-H', '127.0.0.1'], {
      cwd: APP,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        SESSION_SECRET: 'bmV4dC1leGFtcGxlLXNlY3JldC1vZi10aGUtdGVzdHMtMDEyMzQ1Ng',
        SESSION_DB: join(dir, 'sessions.db'),
        NEXT_TELEMETRY_DISABLED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`next start exited:\n${output}`);
      try {
        await fetch(`${url}/api/views`);
        break;
      } catch {
        if (i > 600) throw new Error(`next start did not answer:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a route handler: the session counts on, and a POST passes the fetch-style CSRF check', async () => {
    const b = new HttpClient(url);
    const first = await b.get('/api/views');
    const { csrf, views } = first.json<{ csrf: string; views: number }>();
    expect(views).toBe(0);
    expect(first.setCookies.some((c) => /^sid=[^;]+;.*HttpOnly.*SameSite=Lax/.test(c))).toBe(true);
    expect(first.headers.get('vary')).toMatch(/cookie/i);
    const post = (headers: Record<string, string>, body = '{}') =>
      b.request('/api/views', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({ 'x-csrf-token': csrf })).json()).toEqual({ views: 1 });
    expect((await post({ 'x-csrf-token': csrf })).json()).toEqual({ views: 2 });
    // a form post with the token in its _csrf field
    const form = await b.request('/api/views', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    });
    expect(form.json()).toEqual({ views: 3 });
    // no token, a wrong one, or a foreign origin: 403 with the typed error, nothing counted
    for (const headers of [
      {},
      { 'x-csrf-token': 'nope' },
      { 'x-csrf-token': csrf, origin: 'https://evil.example' },
      { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' },
    ]) {
      const refused = await post(headers);
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({ error: 'ERR_SESSION_CSRF' });
    }
    expect((await b.get('/api/views')).json()).toMatchObject({ views: 3, userId: null });
    // another browser has its own session
    expect((await new HttpClient(url).get('/api/views')).json()).toMatchObject({ views: 0 });
  });

  it('a forged cookie is a fresh, empty session, not an error', async () => {
    const r = await new HttpClient(url).request('/api/views', { cookie: 'sid=forged.value' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ views: 0, userId: null });
  });

  it('the proxy: an anonymous visitor is sent to /login; a page visit writes no cookie', async () => {
    const b = new HttpClient(url);
    const r = await b.get('/dashboard');
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toMatch(/\/login$/);
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Not signed in');
    expect(home.setCookies).toEqual([]);
  });

  it('a client cannot inject flashes through the proxy header', async () => {
    const r = await new HttpClient(url).request('/', {
      headers: { 'x-app-flashes': JSON.stringify([{ type: 'info', message: 'INJECTED' }]) },
    });
    expect(r.body).not.toContain('INJECTED');
  });

  describe('in Chromium', () => {
    let browser: Browser | undefined;
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        if (isCI) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
        return;
      }
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('login in a server action, a protected page, a flash shown once, logout', async (ctx) => {
      if (!browser) return ctx.skip();
      const context = await browser.newContext();
      const page = await context.newPage();
      const sid = async () => (await context.cookies()).find((c) => c.name === 'sid')?.value;

      await page.goto(`${url}/login`);
      await page.fill('input[name=name]', 'alice');
      await page.fill('input[name=password]', 'wrong');
      await page.click('button[type=submit]');
      await page.waitForSelector('#flashes li.error');
      expect(await page.textContent('#flashes')).toContain('Wrong name or password');
      const anonymous = await sid();
      expect(anonymous).toBeDefined();

      await page.fill('input[name=name]', 'alice');
      await page.fill('input[name=password]', 'demo');
      await page.click('button[type=submit]');
      await page.waitForURL(`${url}/dashboard`);
      expect(await page.textContent('#who')).toBe('Signed in as alice');
      expect(await page.textContent('#flashes')).toContain('Welcome, alice');
      // login regenerated the token: the anonymous one is dead
      const signedIn = await sid();
      expect(signedIn).toBeDefined();
      expect(signedIn).not.toBe(anonymous);
      const old = await new HttpClient(url).request('/api/views', { cookie: `sid=${anonymous}` });
      expect(old.json()).toMatchObject({ userId: null });

      // the flash was taken by the proxy on that page: a reload does not show it again
      await page.reload();
      expect(await page.textContent('#who')).toBe('Signed in as alice');
      expect(await page.textContent('#flashes')).not.toContain('Welcome');

      // the server component reads the same session
      await page.goto(`${url}/`);
      expect(await page.textContent('#who')).toBe('Signed in as alice');

      await page.goto(`${url}/dashboard`);
      await page.click('button[type=submit]');
      await page.waitForURL(`${url}/`);
      expect(await page.textContent('#who')).toBe('Not signed in');
      await page.goto(`${url}/dashboard`);
      await page.waitForURL(`${url}/login`);
      // logout ended the session on the server: the signed-in token replayed is anonymous
      const replay = await new HttpClient(url).request('/api/views', { cookie: `sid=${signedIn}` });
      expect(replay.json()).toMatchObject({ userId: null });
      await context.close();
    });
  });
});
