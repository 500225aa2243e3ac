import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { csrfProtection, type SessionEnv, sessionMiddleware } from '../src/adapters/hono.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { Browser } from './support/http.ts';
import { counted } from './support/stores.ts';

interface Data {
  likes: string[];
  views: number;
}

let stop: Array<() => void> = [];
afterEach(() => {
  for (const s of stop) s();
  stop = [];
});

async function start() {
  const store = counted(memoryStore({ sweepInterval: 0 }));
  const sessions = createSessions<Data>({
    secrets: ['s'.repeat(32)],
    store,
    cookie: { secure: 'auto' },
  });
  const app = new Hono<SessionEnv<Data>>();
  app.use(sessionMiddleware(sessions));
  app.use(csrfProtection());
  app.get('/idle', (c) => c.text('idle'));
  app.get('/', async (c) => {
    const s = await c.var.session();
    return c.json({ likes: s.get('likes') ?? [], token: s.csrfToken() });
  });
  app.post('/likes', async (c) => {
    const body = await c.req.parseBody();
    const s = await c.var.session();
    s.push('likes', String(body['likes']));
    return c.redirect('/', 303);
  });
  app.post('/boom', async (c) => {
    const s = await c.var.session();
    s.set('views', 1);
    throw new Error('handler bug');
  });
  app.onError((_err, c) => c.text('oops', 500));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  stop.push(() => server.close());
  const { port } = server.address() as AddressInfo;
  return {
    store,
    browser: new Browser(`http://127.0.0.1:${port}`),
    url: `http://127.0.0.1:${port}`,
  };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('tessera-session/hono over real HTTP', () => {
  it('lazy: a route that never asks for the session never touches the store', async () => {
    const { browser, store } = await start();
    await browser.get('/');
    store.reset();
    expect((await browser.get('/idle')).body).toBe('idle');
    expect(store.calls).toEqual({});
  });

  it('a form post with the token is kept; the handler can still parse the body', async () => {
    const { browser } = await start();
    const { token } = (await browser.get('/')).json<{ token: string }>();
    const r = await browser.post('/likes', `likes=tea&_csrf=${token}`, form);
    expect(r.status).toBe(303);
    expect((await browser.get('/')).json()).toMatchObject({ likes: ['tea'] });
  });

  it('the token also works from the x-csrf-token header and from multipart forms', async () => {
    const { browser } = await start();
    const { token } = (await browser.get('/')).json<{ token: string }>();
    expect(
      (await browser.post('/likes', 'likes=cake', { ...form, 'x-csrf-token': token })).status,
    ).toBe(303);
    const multipart = new FormData();
    multipart.set('likes', 'pie');
    multipart.set('_csrf', token);
    const res = await fetch(`${browser.base}/likes`, {
      method: 'POST',
      body: multipart,
      headers: { cookie: browser.cookie },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect((await browser.get('/')).json()).toMatchObject({ likes: ['cake', 'pie'] });
  });

  it('a post without a valid token, or from another origin, is a 403 ERR_SESSION_CSRF', async () => {
    const { browser, url } = await start();
    const { token } = (await browser.get('/')).json<{ token: string }>();
    const missing = await browser.post('/likes', 'likes=x', form);
    expect(missing.status).toBe(403);
    expect(missing.json()).toMatchObject({ error: 'ERR_SESSION_CSRF' });
    const wrong = await browser.post('/likes', `likes=x&_csrf=${'A'.repeat(86)}`, form);
    expect(wrong.status).toBe(403);
    const crossSite = await browser.post('/likes', `likes=x&_csrf=${token}`, {
      ...form,
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    const sameOrigin = await browser.post('/likes', `likes=ok&_csrf=${token}`, {
      ...form,
      origin: url,
    });
    expect(sameOrigin.status).toBe(303);
    expect((await browser.get('/')).json()).toMatchObject({ likes: ['ok'] });
  });

  it('a handler error commits nothing', async () => {
    const { browser, store } = await start();
    const { token } = (await browser.get('/')).json<{ token: string }>();
    store.reset();
    const r = await browser.post('/boom', '', { 'x-csrf-token': token });
    expect(r.status).toBe(500);
    expect(store.calls['update'] ?? 0).toBe(0);
  });

  it('a store outage is a 503 with the typed error, then recovery', async () => {
    const { browser, store } = await start();
    await browser.get('/');
    store.down = true;
    const r = await browser.get('/');
    expect(r.status).toBe(503);
    expect(r.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
    store.down = false;
    expect((await browser.get('/')).status).toBe(200);
  });
});
