/**
 * The express-session bridge against the real thing: express-session with connect-redis (and
 * with its MemoryStore) writes sessions through a real Express server first; a tessera server
 * with the bridge then takes the visitor over real HTTP. Logged-in users stay logged in, the old
 * record is deleted, the old cookie expired; forged or unknown old cookies copy nothing.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionErrors, sessionMiddleware } from '../src/adapters/express.ts';
import { SessionConfigError } from '../src/errors.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { migrateExpressSession } from '../src/migrate/express.ts';
import { type ExpressSessionStore, expressSessionBridge } from '../src/migrate/index.ts';
import type { Session } from '../src/session/session.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { Browser, listen } from './support/http.ts';
import { REDIS_URL, serviceUnavailable } from './support/services.ts';

const OLD_SECRET = 'the old express-session secret';
const SECRET = 'n'.repeat(32);

// express-session and connect-redis are loaded untyped: @types/express-session augments
// Express's Request with its own `session`, which is exactly the clash (TS2717) that keeps the
// two libraries from sharing one program.
interface ExpressSessionModule {
  default: ((options: Record<string, unknown>) => express.RequestHandler) & {
    MemoryStore: new () => ExpressSessionStore;
  };
}
const { default: expressSession } = (await import(
  'express-session' as string
)) as ExpressSessionModule;
const { RedisStore } = (await import('connect-redis' as string)) as {
  RedisStore: new (o: { client: unknown; prefix: string }) => ExpressSessionStore;
};
const { createClient } = (await import('redis' as string)) as {
  createClient: (o: { url: string }) => {
    connect(): Promise<unknown>;
    quit(): Promise<unknown>;
    destroy(): void;
    exists(key: string): Promise<number>;
  };
};

type OldReq = express.Request & { session: Record<string, unknown> };

/** The app as it ran before: express-session, Passport-style `passport.user`, a cart. */
async function oldApp(store: ExpressSessionStore) {
  const app = express();
  app.use(expressSession({ store, secret: OLD_SECRET, resave: false, saveUninitialized: false }));
  app.post('/login', (req, res) => {
    const s = (req as OldReq).session;
    s['passport'] = { user: 'u-42' };
    s['cart'] = ['sku-1', 'sku-2'];
    s['theme'] = 'dark';
    res.json({ sid: (req as unknown as { sessionID: string }).sessionID });
  });
  return listen(app);
}

type Data = { cart: string[]; theme: string; views: number };

/** The same app on tessera, with the bridge in place. */
async function newApp(oldStore: ExpressSessionStore) {
  const sessions = createSessions<Data>({ secrets: [SECRET], store: memoryStore() });
  const app = express();
  app.use(sessionMiddleware(sessions));
  app.use(migrateExpressSession(expressSessionBridge({ store: oldStore, secret: OLD_SECRET })));
  app.get('/me', async (req, res) => {
    const s = (await req.session()) as unknown as Session<Data>;
    res.json({ userId: s.userId, cart: s.get('cart') ?? null, theme: s.get('theme') ?? null });
  });
  app.post('/views', async (req, res) => {
    const s = (await req.session()) as unknown as Session<Data>;
    res.json({ views: s.increment('views') });
  });
  app.use(sessionErrors());
  const server = await listen(app);
  const close = async () => {
    await server.close();
    await sessions.close();
  };
  return { ...server, close };
}

const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

const unavailable = await serviceUnavailable('Redis', async () => {
  const c = createClient({ url: REDIS_URL });
  await c.connect();
  await c.quit();
});

describe.skipIf(unavailable)('express-session + connect-redis -> tessera', () => {
  const prefix = `migrate-${randomBytes(6).toString('hex')}:`;
  const client = createClient({ url: REDIS_URL });
  let old: Awaited<ReturnType<typeof oldApp>>;
  let next: Awaited<ReturnType<typeof newApp>>;
  let store: ExpressSessionStore;
  beforeAll(async () => {
    await client.connect();
    store = new RedisStore({ client, prefix });
    old = await oldApp(store);
    next = await newApp(store);
  });
  afterAll(async () => {
    await old?.close();
    await next?.close();
    await client.quit();
  });

  /** Log in on the old app; a browser that then visits the new one. */
  async function loggedInOnOldApp() {
    const before = new Browser(old.url);
    const { sid } = (await before.request('/login', { method: 'POST' })).json<{ sid: string }>();
    expect(before.jar.get('connect.sid')).toMatch(/^s%3A/);
    expect(await client.exists(prefix + sid)).toBe(1);
    const after = new Browser(next.url);
    for (const [k, v] of before.jar) after.jar.set(k, v);
    return { sid, browser: after };
  }

  it('a logged-in user stays logged in: same user and data, old record deleted, old cookie expired', async () => {
    const { sid, browser } = await loggedInOnOldApp();
    const r = await browser.get('/me');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ userId: 'u-42', cart: ['sku-1', 'sku-2'], theme: 'dark' });
    expect(r.setCookies.some((c) => /^connect\.sid=;.*Max-Age=0/.test(c))).toBe(true);
    expect(r.setCookies.some((c) => /^sid=[^;]+/.test(c))).toBe(true);
    expect(browser.jar.has('connect.sid')).toBe(false);
    await until(async () => (await client.exists(prefix + sid)) === 0);
    expect(await client.exists(prefix + sid)).toBe(0);
    // The next request rides on tessera's cookie alone.
    expect((await browser.get('/me')).json()).toEqual({
      userId: 'u-42',
      cart: ['sku-1', 'sku-2'],
      theme: 'dark',
    });
  });

  it('the same old cookie replayed after the move copies nothing (its record is gone)', async () => {
    const { browser } = await loggedInOnOldApp();
    const oldCookie = `connect.sid=${browser.jar.get('connect.sid')}`;
    await browser.get('/me');
    const sid = oldCookie.match(/s%3A([^.]+)/)![1]!;
    await until(async () => (await client.exists(prefix + sid)) === 0);
    const replay = await new Browser(next.url).request('/me', { cookie: oldCookie });
    expect(replay.json()).toEqual({ userId: null, cart: null, theme: null });
    expect(replay.setCookies.some((c) => /^connect\.sid=;/.test(c))).toBe(true);
  });

  it('a cookie signed with another secret copies nothing and leaves the old record alone', async () => {
    const { sid, browser } = await loggedInOnOldApp();
    const forged = (browser.jar.get('connect.sid') ?? '').replace(/\.[^.]+$/, '.AAAAforged');
    const r = await browser.request('/me', { cookie: `connect.sid=${forged}` });
    expect(r.json()).toEqual({ userId: null, cart: null, theme: null });
    expect(r.setCookies.some((c) => /^connect\.sid=;/.test(c))).toBe(true);
    expect(await client.exists(prefix + sid)).toBe(1);
  });

  it('a visitor who already has a tessera session keeps it; the old one is only retired', async () => {
    const { sid, browser } = await loggedInOnOldApp();
    const oldCookie = browser.jar.get('connect.sid')!;
    browser.jar.delete('connect.sid');
    expect((await browser.request('/views', { method: 'POST' })).json()).toEqual({ views: 1 });
    browser.jar.set('connect.sid', oldCookie);
    const r = await browser.get('/me');
    expect(r.json()).toEqual({ userId: null, cart: null, theme: null });
    expect(browser.jar.has('connect.sid')).toBe(false);
    await until(async () => (await client.exists(prefix + sid)) === 0);
    expect(await client.exists(prefix + sid)).toBe(0);
  });

  it('an old store that fails answers 503 and keeps the old cookie for the next try', async () => {
    const { browser } = await loggedInOnOldApp();
    const broken = createClient({ url: REDIS_URL });
    await broken.connect();
    await broken.quit(); // a closed client: every command fails, as in an outage
    const app = await newApp(new RedisStore({ client: broken, prefix }));
    try {
      const r = await new Browser(app.url).request('/me', { cookie: browser.cookie });
      expect(r.status).toBe(503);
      expect(r.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
      expect(r.setCookies.some((c) => /^connect\.sid=/.test(c))).toBe(false);
      // and the real store still has it: the user moves over once the old store is back
      expect((await browser.get('/me')).json()).toMatchObject({ userId: 'u-42' });
    } finally {
      await app.close();
    }
  });
});

describe("express-session's MemoryStore -> tessera", () => {
  it('moves the session through the same store interface', async () => {
    const store = new expressSession.MemoryStore();
    const old = await oldApp(store);
    const next = await newApp(store);
    try {
      const before = new Browser(old.url);
      await before.request('/login', { method: 'POST' });
      const browser = new Browser(next.url);
      for (const [k, v] of before.jar) browser.jar.set(k, v);
      expect((await browser.get('/me')).json()).toEqual({
        userId: 'u-42',
        cart: ['sku-1', 'sku-2'],
        theme: 'dark',
      });
      // The replay finds nothing: the record was deleted after the response.
      const replay = await new Browser(next.url).request('/me', { cookie: before.cookie });
      expect(replay.json()).toMatchObject({ userId: null });
    } finally {
      await old.close();
      await next.close();
    }
  });

  it('refuses a bad configuration at start-up with the fix in the message', () => {
    const store = new expressSession.MemoryStore();
    expect(() =>
      expressSessionBridge({ store: {} as ExpressSessionStore, secret: OLD_SECRET }),
    ).toThrow(SessionConfigError);
    expect(() => expressSessionBridge({ store, secret: '' })).toThrow(/old secret/);
    expect(() => expressSessionBridge({ store, secret: [] })).toThrow(SessionConfigError);
  });

  it('an old record past its cookie.expires is not copied', async () => {
    const sid = 'expired-one';
    const store: ExpressSessionStore = {
      get: (_sid, cb) =>
        cb(null, { cookie: { expires: new Date(1000).toISOString() }, theme: 'x' }),
      destroy: (_sid, cb) => cb?.(),
    };
    const bridge = expressSessionBridge({ store, secret: OLD_SECRET });
    const sessions = createSessions<Data>({ secrets: [SECRET], store: memoryStore() });
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', OLD_SECRET).update(sid).digest('base64').replace(/=+$/, '');
    const cookie = `connect.sid=${encodeURIComponent(`s:${sid}.${sig}`)}`;
    const session = await sessions.request({ cookie }).session();
    const moved = await bridge.migrate(cookie, session);
    expect(moved?.copied).toBe(false);
    expect(session.get('theme')).toBeUndefined();
    await sessions.close();
  });
});
