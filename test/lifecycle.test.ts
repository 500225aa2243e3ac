/**
 * The request lifecycle of DESIGN.md, held through a real node:http server on port 0 with the
 * memory store behind a counting wrapper.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../src/events.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import type { SessionsOptions } from '../src/options.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { type AppHooks, testApp } from './support/app.ts';
import { Browser, listen } from './support/http.ts';
import { type Counted, counted, writes } from './support/stores.ts';

const SECRET = 'a'.repeat(32);
const OLD_SECRET = 'o'.repeat(32);
const MINUTE = 60_000;

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function setup(options: Partial<SessionsOptions> = {}, hooks: AppHooks = {}, adapter = {}) {
  const clock = { now: Date.now() };
  const store = counted(memoryStore({ sweepInterval: 0 }));
  const events: SessionEvent[] = [];
  const sessions = createSessions({
    secrets: [SECRET],
    store,
    now: () => clock.now,
    onEvent: (e) => events.push(e),
    ...options,
  });
  const server = await listen(testApp(sessions as never, hooks, adapter));
  closers.push(server.close, () => sessions.close());
  return { clock, store, sessions, events, browser: new Browser(server.url), url: server.url };
}

const size = (store: Counted) => (store.inner as ReturnType<typeof memoryStore>).size;
const token = (b: Browser) => b.jar.get('sid')!.split('.')[0]!;
const sha = (t: string) => createHash('sha256').update(t).digest('base64url');

describe('fresh sessions', () => {
  it('a request without a cookie gets a fresh session, no cookie and no store record', async () => {
    const { browser, store } = await setup();
    const r = await browser.get('/get?key=x');
    expect(r.json()).toMatchObject({ out: null, isNew: true });
    expect(r.setCookies).toEqual([]);
    expect(size(store)).toBe(0);
    expect(writes(store)).toBe(0);
  });

  it('the first write creates the record and sets the cookie; the store holds only the hash', async () => {
    const { browser, store } = await setup();
    const r = await browser.post('/set?key=likes&value=["tea"]');
    expect(r.setCookies).toHaveLength(1);
    expect(store.calls['create']).toBe(1);
    const t = token(browser);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.inner.get(t, Date.now())).toBeNull();
    expect(await store.inner.get(sha(t), Date.now())).toMatchObject({ data: { likes: ['tea'] } });
    expect((await browser.get('/get?key=likes')).json()).toMatchObject({
      out: ['tea'],
      isNew: false,
    });
  });

  it.each([
    ['tampered signature', (v: string) => v.slice(0, -2) + (v.endsWith('A') ? 'BB' : 'AA')],
    ['tampered token', (v: string) => (v[0] === 'A' ? 'B' : 'A') + v.slice(1)],
    ['unsigned token', (v: string) => v.split('.')[0]!],
    ['garbage', () => '%%%;not a cookie'],
    ['empty', () => ''],
    ['signed with an unknown secret', (v: string) => v.replace(/\..*/, '.' + 'x'.repeat(43))],
  ])('%s: a fresh session, no exception, no record created', async (_name, mutate) => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    const before = size(store);
    const bad = mutate(browser.jar.get('sid')!);
    const r = await browser.request('/get?key=a', { cookie: `sid=${bad}` });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ out: null, isNew: true });
    expect(r.setCookies).toEqual([]);
    expect(size(store)).toBe(before);
  });

  it('fixation: a client-chosen session id is never adopted', async () => {
    const { browser, store } = await setup();
    const chosen = 'A'.repeat(43);
    const r = await browser.request('/set?key=a&value=1', {
      method: 'POST',
      cookie: `sid=${chosen}.${'B'.repeat(43)}`,
    });
    expect(r.status).toBe(200);
    expect(token(browser)).not.toBe(chosen);
    expect(await store.inner.get(sha(chosen), Date.now())).toBeNull();
  });

  it('fixation: the cookie of a dead session is not reused when the visitor writes again', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=a&value=1');
    const old = browser.jar.get('sid')!;
    await browser.post('/logout');
    await browser.request('/set?key=b&value=2', { method: 'POST', cookie: `sid=${old}` });
    expect(browser.jar.get('sid')).toBeDefined();
    expect(browser.jar.get('sid')).not.toBe(old);
  });
});

describe('one read, one write', () => {
  it('a request that never asks for the session never touches the store', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    store.reset();
    const r = await browser.get('/idle');
    expect(r.body).toBe('no session here');
    expect(store.calls).toEqual({});
    expect(r.setCookies).toEqual([]);
  });

  it('a read is one store read and no write', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    store.reset();
    await browser.get('/get?key=a');
    expect(store.calls).toEqual({ get: 1 });
  });

  it('a change is one read and one update carrying only the delta', async () => {
    const { browser, store, clock } = await setup();
    await browser.post('/set?key=a&value=1');
    await browser.post('/set?key=b&value=2');
    store.reset();
    const updates: unknown[] = [];
    const inner = store.inner.update.bind(store.inner);
    store.inner.update = async (key, delta, now) => {
      updates.push(delta);
      return inner(key, delta, now);
    };
    const r = await browser.post('/set?key=a&value=10');
    expect(store.calls).toEqual({ get: 1, update: 1 });
    // Within touchAfter of the last slide: the data only, no deadline, no Set-Cookie.
    expect(updates[0]).toEqual({ set: { a: 10 }, unset: [], ops: [] });
    expect(r.setCookies).toEqual([]);
    clock.now += MINUTE; // touchAfter's default
    const later = await browser.post('/set?key=b&value=3');
    expect(updates[1]).toEqual({
      set: { b: 3 },
      unset: [],
      ops: [],
      lastSeenAt: clock.now,
      expiresAt: clock.now + 2 * 60 * MINUTE, // idleTimeout's default
    });
    expect(later.setCookies).toHaveLength(1);
    expect(store.calls).toEqual({ get: 2, update: 2 });
  });
});

describe('concurrency', () => {
  it('two concurrent requests setting different keys both persist', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=base&value=0');
    await Promise.all([
      browser.post('/set?key=left&value=1'),
      browser.post('/set?key=right&value=2'),
    ]);
    const keys = (await browser.get('/get?key=left')).json<{ keys: string[] }>().keys;
    expect(keys.sort()).toEqual(['base', 'left', 'right']);
  });

  it('twenty concurrent pushes to one list all persist', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=cart&value=[]');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => browser.post(`/push?key=cart&value="item-${i}"`)),
    );
    const cart = (await browser.get('/get?key=cart')).json<{ out: string[] }>().out;
    expect(cart).toHaveLength(20);
    expect(new Set(cart).size).toBe(20);
  });

  it('a request in flight during destroy does not bring the session back', async () => {
    let release!: () => void;
    let loaded!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const hasLoaded = new Promise<void>((r) => (loaded = r));
    const { browser, store } = await setup({}, { gate: () => gate, loaded: () => loaded() });
    await browser.post('/set?key=a&value=1');
    const key = sha(token(browser));
    const cookie = browser.cookie;
    const slow = browser.request('/slow-set?key=late&value=true', { method: 'POST', cookie });
    await hasLoaded;
    await browser.post('/logout');
    expect(await store.inner.get(key, Date.now())).toBeNull();
    release();
    const r = await slow;
    expect(r.status).toBe(200);
    expect(await store.inner.get(key, Date.now())).toBeNull();
    expect(size(store)).toBe(0);
    // It sets no cookie either: a concurrent login may have given the browser a new one.
    expect(r.setCookies).toEqual([]);
  });

  it('a value changed in place is never silently lost: get returns a copy', async () => {
    const { sessions } = await setup();
    const rs = sessions.request({});
    const s = await rs.session();
    s.set('cart', ['a']);
    (s.get('cart') as string[]).push('b');
    expect(s.get('cart')).toEqual(['a']);
  });
});

describe('regenerate, login, logout', () => {
  it('regenerate issues a new token, keeps the data and kills the old token at once', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=cart&value=["x"]');
    const old = browser.jar.get('sid')!;
    store.reset();
    await browser.post('/regenerate');
    // One atomic rename where the store has it; the alive-checked steps where it does not yet.
    if (store.calls['regenerate'] === undefined)
      expect(store.calls).toMatchObject({ update: 1, create: 1, destroy: 1 });
    else expect(store.calls).toMatchObject({ get: 1, regenerate: 1 });
    expect(browser.jar.get('sid')).not.toBe(old);
    expect((await browser.get('/get?key=cart')).json()).toMatchObject({ out: ['x'] });
    const replay = await browser.request('/get?key=cart', { cookie: `sid=${old}` });
    expect(replay.json()).toMatchObject({ out: null, isNew: true });
  });

  it('login regenerates and binds the user; replaying the pre-login cookie gets nothing', async () => {
    const { browser, sessions, events } = await setup();
    await browser.post('/set?key=cart&value=["x"]');
    const anonymous = browser.jar.get('sid')!;
    const r = await browser.post('/login?user=alice');
    expect(r.json()).toMatchObject({ userId: 'alice' });
    expect(browser.jar.get('sid')).not.toBe(anonymous);
    expect((await browser.get('/get?key=cart')).json()).toMatchObject({
      out: ['x'],
      userId: 'alice',
    });
    expect(
      (await browser.request('/get?key=cart', { cookie: `sid=${anonymous}` })).json(),
    ).toMatchObject({ userId: null, out: null });
    const listed = await sessions.listSessions('alice');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.id).toBe(sha(token(browser)));
    expect(events.map((e) => e.type)).toEqual(['created', 'regenerated']);
  });

  it("a regenerate keeps createdAt and the absolute deadline (it does not extend the session's life)", async () => {
    const { browser, clock, sessions } = await setup({
      idleTimeout: '30m',
      absoluteTimeout: '1h',
      touchAfter: '1m',
    });
    await browser.post('/set?key=a&value=1');
    const created = clock.now;
    clock.now += 20 * MINUTE;
    await browser.get('/get?key=a'); // within the idle timeout: touched
    clock.now += 20 * MINUTE;
    const rs = sessions.request({ cookie: browser.cookie });
    const s = await rs.session();
    expect(s.createdAt).toBe(created);
    expect(s.expiresAt).toBe(created + 60 * MINUTE); // capped by the absolute timeout
    s.regenerate();
    expect(s.createdAt).toBe(created);
    expect(s.expiresAt).toBe(created + 60 * MINUTE);
    const { headers } = await rs.commit();
    expect(headers[0]![1]).toMatch(/Max-Age=1200;/); // 20 minutes left of the hour
    // Regenerated again just before the hour, it still dies an hour after it was created.
    browser.jar.set('sid', headers[0]![1].split(';')[0]!.slice(4));
    clock.now = created + 59 * MINUTE;
    expect((await browser.post('/regenerate')).setCookies[0]).toMatch(/Max-Age=60;/);
    clock.now = created + 60 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ isNew: true });
  });

  it('logout ends the session on the server and expires the cookie with the same attributes', async () => {
    const { browser, store, events } = await setup({
      cookie: { path: '/', domain: 'example.test' },
    });
    await browser.post('/login?user=bob');
    const old = browser.jar.get('sid')!;
    const r = await browser.post('/logout');
    expect(r.setCookies[0]).toMatch(
      /^sid=; Path=\/; Domain=example\.test; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(size(store)).toBe(0);
    const replay = await browser.request('/get?key=a', { cookie: `sid=${old}` });
    expect(replay.json()).toMatchObject({ isNew: true, userId: null });
    expect(events.at(-1)).toMatchObject({ type: 'destroyed', reason: 'logout', userId: 'bob' });
  });

  it('events carry the hashed id and never the token', async () => {
    const { browser, events } = await setup();
    await browser.post('/set?key=a&value=1');
    const anonymous = token(browser);
    await browser.post('/login?user=carol');
    const t = token(browser);
    expect(JSON.stringify(events)).not.toContain(t);
    expect(JSON.stringify(events)).not.toContain(anonymous);
    expect(events).toEqual([
      { type: 'created', id: sha(anonymous), userId: null, at: expect.any(Number) },
      {
        type: 'regenerated',
        id: sha(t),
        previousId: sha(anonymous),
        userId: 'carol',
        at: expect.any(Number),
      },
    ]);
  });
});

describe('per-user sessions', () => {
  it('lists, revokes one, revokes all but the current one', async () => {
    const { url, sessions, events } = await setup();
    const devices = [new Browser(url), new Browser(url), new Browser(url)];
    for (const b of devices) await b.post('/login?user=dana');
    expect(await sessions.listSessions('dana')).toHaveLength(3);
    const [first, second, third] = devices.map((b) => sha(token(b)));
    expect(await sessions.revokeSession(first!, { userId: 'someone-else' })).toBe(false);
    expect(await sessions.revokeSession(first!, { userId: 'dana' })).toBe(true);
    expect((await devices[0]!.get('/get?key=x')).json()).toMatchObject({ userId: null });
    expect(await sessions.revokeUserSessions('dana', { except: third! })).toBe(1);
    expect((await devices[1]!.get('/get?key=x')).json()).toMatchObject({ userId: null });
    expect((await devices[2]!.get('/get?key=x')).json()).toMatchObject({ userId: 'dana' });
    expect((await sessions.listSessions('dana')).map((s) => s.id)).toEqual([third]);
    expect(events.filter((e) => e.type === 'revoked').map((e) => e.id)).toEqual([first, second]);
  });

  it('maxSessionsPerUser ends the least recently used session at login', async () => {
    const { url, sessions, clock } = await setup({ maxSessionsPerUser: 2 });
    const devices = [new Browser(url), new Browser(url), new Browser(url)];
    for (const b of devices) {
      clock.now += 1000;
      await b.post('/login?user=erin');
    }
    expect(await sessions.listSessions('erin')).toHaveLength(2);
    expect((await devices[0]!.get('/get?key=x')).json()).toMatchObject({ userId: null });
    expect((await devices[2]!.get('/get?key=x')).json()).toMatchObject({ userId: 'erin' });
  });
});

describe('expiry, on the server', () => {
  it('a write slides the expiry as a read does: at most once per touchAfter, the cookie with it', async () => {
    const { browser, clock, store } = await setup({ idleTimeout: '30m', touchAfter: '5m' });
    await browser.post('/set?key=n&value=0');
    const created = clock.now;
    // A write every 4 minutes for an hour: twice the idle timeout, each within touchAfter of the
    // last slide or past it. The session never lapses, and the cookie the browser holds always
    // outlives the record's deadline (it was sent with the last slide).
    let cookieExpires = created + 30 * MINUTE;
    let sent = 0;
    for (let i = 1; i <= 15; i++) {
      clock.now += 4 * MINUTE;
      expect(clock.now).toBeLessThan(cookieExpires); // the browser still sends it
      const r = await browser.post(`/set?key=n&value=${i}`);
      expect(r.status).toBe(200);
      const record = await store.inner.get(sha(token(browser)), clock.now);
      expect(record?.data).toMatchObject({ n: i });
      if (r.setCookies.length > 0) {
        sent++;
        const maxAge = Number(/Max-Age=(\d+)/.exec(r.setCookies[0]!)![1]);
        cookieExpires = clock.now + maxAge * 1000;
        expect(record!.expiresAt).toBe(clock.now + 30 * MINUTE);
        // The cookie is sent for the record's own deadline, to the second: it never outlives it.
        expect(Math.abs(cookieExpires - record!.expiresAt)).toBeLessThan(1000);
      }
      // The deadline the record keeps is never past the cookie's, and never more than
      // touchAfter short of a full idle timeout from now.
      expect(record!.expiresAt).toBeLessThanOrEqual(cookieExpires);
      expect(record!.expiresAt).toBeGreaterThanOrEqual(clock.now + 25 * MINUTE);
    }
    expect(sent).toBe(7); // at 8, 16, … 56 minutes: one Set-Cookie per 8 minutes, not 15
    clock.now += 31 * MINUTE;
    expect((await browser.get('/get?key=n')).json()).toMatchObject({ out: null, isNew: true });
  });

  it('idle timeout: unused past idleTimeout, the session is gone', async () => {
    const { browser, clock } = await setup({ idleTimeout: '30m', touchAfter: '1m' });
    await browser.post('/set?key=a&value=1');
    clock.now += 29 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 }); // touched: slides
    clock.now += 29 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
    clock.now += 31 * MINUTE;
    const r = await browser.get('/get?key=a');
    expect(r.json()).toMatchObject({ out: null, isNew: true });
  });

  it('absolute timeout: however active, the session dies absoluteTimeout after creation', async () => {
    const { browser, clock, store } = await setup({
      idleTimeout: '30m',
      absoluteTimeout: '1h',
      touchAfter: '1m',
    });
    let last = await browser.post('/set?key=a&value=1');
    for (let i = 0; i < 5; i++) {
      clock.now += 10 * MINUTE;
      last = await browser.post(`/set?key=b&value=${i}`); // each one past touchAfter: it slides
      expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
    }
    expect(last.setCookies[0]).toMatch(/Max-Age=600;/); // the cookie never outlives the server's limit
    clock.now += 10 * MINUTE + 1;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: null, isNew: true });
    expect(writes(store)).toBeGreaterThan(0);
  });

  it('an expired cookie replayed later is a fresh session and nothing is recreated', async () => {
    const { browser, clock, store } = await setup({ idleTimeout: '10m', touchAfter: '1m' });
    await browser.post('/set?key=a&value=1');
    clock.now += 11 * MINUTE;
    store.reset();
    const r = await browser.get('/get?key=a');
    expect(r.json()).toMatchObject({ isNew: true });
    expect(writes(store)).toBe(0);
  });

  it('touch is throttled: reads within touchAfter write nothing, then one touch', async () => {
    const { browser, clock, store } = await setup({ idleTimeout: '30m', touchAfter: '5m' });
    await browser.post('/set?key=a&value=1');
    store.reset();
    for (let i = 0; i < 4; i++) {
      clock.now += MINUTE;
      const r = await browser.get('/get?key=a');
      expect(r.setCookies).toEqual([]);
    }
    expect(writes(store)).toBe(0);
    clock.now += MINUTE;
    const touched = await browser.get('/get?key=a');
    expect(store.calls['touch']).toBe(1);
    expect(touched.setCookies[0]).toMatch(/Max-Age=1800;/);
    clock.now += MINUTE;
    await browser.get('/get?key=a');
    expect(writes(store)).toBe(1);
  });
});

describe('secrets and rotation', () => {
  /** A session written under OLD_SECRET, and a browser holding its cookie on a server that rotated to SECRET. */
  async function rotatedBrowser() {
    const old = await setup({ secrets: [OLD_SECRET] });
    await old.browser.post('/set?key=a&value=1');
    const oldCookie = old.browser.jar.get('sid')!;
    const rotated = createSessions({
      secrets: [SECRET, OLD_SECRET],
      store: old.store,
      now: () => old.clock.now,
    });
    const server = await listen(testApp(rotated as never));
    closers.push(server.close);
    const b = new Browser(server.url);
    b.jar.set('sid', oldCookie);
    return { b, oldCookie };
  }

  it('a cookie signed with an older secret is accepted and re-issued with the current one', async () => {
    const { b, oldCookie } = await rotatedBrowser();
    const r = await b.get('/get?key=a');
    expect(r.json()).toMatchObject({ out: 1 });
    expect(r.setCookies).toHaveLength(1);
    const reissued = b.jar.get('sid')!;
    expect(reissued).not.toBe(oldCookie);
    expect(reissued.split('.')[0]).toBe(oldCookie.split('.')[0]);
    const again = await b.get('/get?key=a');
    expect(again.setCookies).toEqual([]);
  });

  it('a write with a cookie signed by an older secret re-issues it, touch due or not', async () => {
    const { b, oldCookie } = await rotatedBrowser();
    const r = await b.post('/set?key=a&value=2'); // the same instant: no touch due
    expect(r.setCookies).toHaveLength(1);
    expect(b.jar.get('sid')).not.toBe(oldCookie);
    expect(b.jar.get('sid')!.split('.')[0]).toBe(oldCookie.split('.')[0]);
    expect((await b.post('/set?key=a&value=3')).setCookies).toEqual([]);
    expect((await b.get('/get?key=a')).json()).toMatchObject({ out: 3 });
  });

  it('once the old secret is removed its cookies are dead', async () => {
    const old = await setup({ secrets: [OLD_SECRET] });
    await old.browser.post('/set?key=a&value=1');
    const current = createSessions({
      secrets: [SECRET],
      store: old.store,
      now: () => old.clock.now,
    });
    const server = await listen(testApp(current as never));
    closers.push(server.close);
    const b = new Browser(server.url);
    b.jar.set('sid', old.browser.jar.get('sid')!);
    expect((await b.get('/get?key=a')).json()).toMatchObject({ out: null, isNew: true });
  });
});

describe('cookies and headers', () => {
  it('default attributes: HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age = time left', async () => {
    const { browser } = await setup({ idleTimeout: '30m' });
    const r = await browser.post('/set?key=a&value=1');
    expect(r.setCookies[0]).toMatch(
      /^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=1800; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  it('responses that set the cookie carry Cache-Control: no-store and Vary: Cookie', async () => {
    const { browser } = await setup();
    const r = await browser.post('/set?key=a&value=1');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('vary')).toBe('Cookie');
    const read = await browser.get('/get?key=a');
    expect(read.headers.get('cache-control')).toBeNull();
  });

  it('domain, partitioned, strict, browser-session cookies', async () => {
    const { browser } = await setup({
      cookie: {
        name: '__Secure-s',
        domain: 'example.test',
        sameSite: 'strict',
        partitioned: true,
        persistent: false,
      },
    });
    const r = await browser.post('/set?key=a&value=1');
    expect(r.setCookies[0]).toMatch(
      /^__Secure-s=[^;]+; Path=\/; Domain=example\.test; HttpOnly; Secure; SameSite=Strict; Partitioned$/,
    );
  });

  it("secure: 'auto' follows the scheme, and trusts X-Forwarded-Proto only with trustProxy", async () => {
    const plain = await setup({ cookie: { secure: 'auto' } });
    expect((await plain.browser.post('/set?key=a&value=1')).setCookies[0]).not.toMatch(/Secure/);
    const spoof = await setup({ cookie: { secure: 'auto' } });
    const s = await spoof.browser.post('/set?key=a&value=1', undefined, {
      'x-forwarded-proto': 'https',
    });
    expect(s.setCookies[0]).not.toMatch(/Secure/);
    const proxied = await setup({ cookie: { secure: 'auto' } }, {}, { trustProxy: true });
    const p = await proxied.browser.post('/set?key=a&value=1', undefined, {
      'x-forwarded-proto': 'https',
    });
    expect(p.setCookies[0]).toMatch(/; Secure;/);
  });

  it('__Host- cookies are accepted with their rules', async () => {
    const { browser } = await setup({ cookie: { name: '__Host-sid' } });
    const r = await browser.post('/set?key=a&value=1');
    expect(r.setCookies[0]).toMatch(/^__Host-sid=[^;]+; Path=\/; Max-Age/);
  });
});

describe('store outage', () => {
  it('answers 503 with the typed error, keeps serving, and recovers by itself', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    store.down = true;
    const read = await browser.get('/get?key=a');
    expect(read.status).toBe(503);
    expect(read.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
    store.down = false;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
  });

  it('a commit that fails replaces the handler’s answer with a 503 (the client is not told “saved”)', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    const inner = store.inner.update.bind(store.inner);
    store.inner.update = async () => {
      throw new Error('connection reset');
    };
    const r = await browser.post('/set?key=a&value=2');
    expect(r.status).toBe(503);
    expect(r.setCookies).toEqual([]);
    store.inner.update = inner;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
  });

  it('a handler that throws gets a 500, and its session changes are not committed', async () => {
    const { browser, store } = await setup();
    await browser.post('/set?key=a&value=1');
    store.reset();
    const r = await browser.post('/throw');
    expect(r.status).toBe(500);
    expect(writes(store)).toBe(0);
    expect((await browser.get('/get?key=never')).json()).toMatchObject({ out: null });
  });
});

describe('flash and csrf', () => {
  it('flash messages are read once', async () => {
    const { browser } = await setup();
    await browser.post('/flash?type=success&message=Saved');
    await browser.post('/flash?type=error&message=Oops');
    expect((await browser.get('/flashes')).json()).toMatchObject({
      out: [
        { type: 'success', message: 'Saved' },
        { type: 'error', message: 'Oops' },
      ],
    });
    expect((await browser.get('/flashes')).json()).toMatchObject({ out: [] });
  });

  it('a flash read in the request that set it leaves nothing to store', async () => {
    const { sessions, store } = await setup();
    const rs = sessions.request({});
    const s = await rs.session();
    s.flash('info', 'hello');
    expect(s.flashes()).toEqual([{ type: 'info', message: 'hello' }]);
    expect((await rs.commit()).headers).toEqual([]);
    expect(size(store)).toBe(0);
  });

  it('csrf tokens differ per call and verify only for their session', async () => {
    const { browser, url } = await setup();
    const t1 = (await browser.get('/csrf')).json<{ out: string }>().out;
    const t2 = (await browser.get('/csrf')).json<{ out: string }>().out;
    expect(t1).not.toBe(t2);
    expect((await browser.post(`/csrf?token=${t1}`)).json()).toMatchObject({ out: true });
    expect((await browser.post(`/csrf?token=${t2}`)).json()).toMatchObject({ out: true });
    const other = new Browser(url);
    await other.get('/csrf');
    expect((await other.post(`/csrf?token=${t1}`)).json()).toMatchObject({ out: false });
    const flipped = t1.slice(0, 40) + (t1[40] === 'A' ? 'B' : 'A') + t1.slice(41);
    expect((await browser.post(`/csrf?token=${flipped}`)).json()).toMatchObject({ out: false });
  });
});
