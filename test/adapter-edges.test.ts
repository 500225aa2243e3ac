/** Framework-specific edges of the Express and Fastify adapters, over real HTTP. */

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { csrfProtection, sessionErrors, sessionMiddleware } from '../src/adapters/express.ts';
import { sessionPlugin } from '../src/adapters/fastify.ts';
import * as tHono from '../src/adapters/hono.ts';
import { checkCsrf, withSessions } from '../src/adapters/node.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { Browser, listen } from './support/http.ts';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

const sessions = () =>
  createSessions<{ likes: string[] }>({
    secrets: ['e'.repeat(32)],
    store: memoryStore({ sweepInterval: 0 }),
    cookie: { secure: 'auto' },
  });

describe('tessera-session/express', () => {
  it('the CSRF guard reads an urlencoded body itself when no parser ran, and leaves it on req.body', async () => {
    const app = express();
    app.use(sessionMiddleware(sessions()));
    app.use(csrfProtection());
    app.get('/', async (req, res) => {
      res.json({ token: (await req.session()).csrfToken() });
    });
    app.post('/likes', express.urlencoded(), async (req, res) => {
      const s = await req.session();
      s.push('likes' as never, req.body.item as never);
      res.json({ body: req.body, likes: s.get('likes' as never) });
    });
    app.use(sessionErrors());
    const server = await listen(app);
    closers.push(server.close);
    const browser = new Browser(server.url);
    const { token } = (await browser.get('/')).json<{ token: string }>();
    const r = await browser.post('/likes', `item=tea&_csrf=${encodeURIComponent(token)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ body: { item: 'tea', _csrf: token }, likes: ['tea'] });
  });

  it('res.redirect and res.sendStatus go out after the commit, with the cookie', async () => {
    const app = express();
    app.use(sessionMiddleware(sessions()));
    app.post('/go', async (req, res) => {
      (await req.session()).push('likes' as never, 'x' as never);
      res.redirect(303, '/done');
    });
    const server = await listen(app);
    closers.push(server.close);
    const r = await new Browser(server.url).post('/go');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/done');
    expect(r.setCookies).toHaveLength(1);
  });

  it('without sessionErrors(), Express answers a store outage with the error status 503', async () => {
    const store = memoryStore({ sweepInterval: 0 });
    const s = createSessions({ secrets: ['e'.repeat(32)], store, cookie: { secure: 'auto' } });
    const app = express();
    app.use(sessionMiddleware(s));
    app.post('/', async (req, res) => {
      (await req.session()).set('a' as never, 1 as never);
      res.send('saved');
    });
    const server = await listen(app);
    closers.push(server.close);
    store.create = () => Promise.reject(new Error('connection lost'));
    const r = await new Browser(server.url).post('/');
    expect(r.status).toBe(503);
    expect(r.body).not.toContain('saved');
  });

  it('sessionMiddleware without sessions is refused at start-up with ERR_SESSION_CONFIG', () => {
    expect(() => sessionMiddleware(undefined as never)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
  });
});

describe('tessera-session/express on Express 4', () => {
  it('a same-origin form POST (host with a port) passes csrfProtection, and nothing is deprecated', async () => {
    const deprecations: unknown[] = [];
    const onDeprecation = (err: unknown) => deprecations.push(err);
    // depd (Express's deprecation messages) emits here instead of printing when listened to.
    process.on('deprecation' as never, onDeprecation);
    try {
      const app = (express4 as unknown as typeof express)();
      app.use(sessionMiddleware(sessions()));
      app.use(csrfProtection());
      app.get('/', async (req, res) => {
        res.json({ token: (await req.session()).csrfToken() });
      });
      app.post('/likes', async (req, res) => {
        const s = await req.session();
        s.push('likes' as never, String(req.body.item) as never);
        res.redirect(303, '/');
      });
      app.use(sessionErrors());
      const server = await listen(app);
      closers.push(server.close);
      const browser = new Browser(server.url);
      const { token } = (await browser.get('/')).json<{ token: string }>();
      const r = await browser.post('/likes', `item=tea&_csrf=${encodeURIComponent(token)}`, {
        'content-type': 'application/x-www-form-urlencoded',
        origin: server.url,
      });
      expect(r.status).toBe(303);
      const evil = await browser.post('/likes', `item=x&_csrf=${encodeURIComponent(token)}`, {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://127.0.0.1:1',
      });
      expect(evil.status).toBe(403);
      expect(deprecations).toEqual([]);
    } finally {
      process.off('deprecation' as never, onDeprecation);
    }
  });
});

describe('tessera-session/fastify', () => {
  it('registering without { sessions } fails at start-up with ERR_SESSION_CONFIG', async () => {
    const app = Fastify();
    await expect(app.register(sessionPlugin, {} as never).ready()).rejects.toMatchObject({
      code: 'ERR_SESSION_CONFIG',
    });
  });

  it('works through fastify.inject too (no socket), and a reply.redirect carries the cookie', async () => {
    const app = Fastify();
    await app.register(sessionPlugin, { sessions: sessions() });
    app.post('/go', async (request, reply) => {
      (await request.session()).push('likes' as never, 'x' as never);
      return reply.redirect('/done', 303);
    });
    const r = await app.inject({ method: 'POST', url: '/go' });
    expect(r.statusCode).toBe(303);
    expect(String(r.headers['set-cookie'])).toMatch(/^sid=/);
    await app.close();
  });
});

describe('trustProxy is set once, on the session layer, and the CSRF check uses the same facts', () => {
  const proxied = {
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'public.example',
    origin: 'https://public.example',
  };

  async function nodeServer(trustProxy: boolean) {
    const server = await listen(
      withSessions(
        sessions(),
        async (req, res, load) => {
          const s = await load();
          if (req.method === 'POST') {
            checkCsrf(req, s);
            s.push('likes', 'x');
          }
          res.end(JSON.stringify({ token: s.csrfToken() }));
        },
        { trustProxy, onError: () => {} },
      ),
    );
    closers.push(server.close);
    return server.url;
  }

  async function honoServer(trustProxy: boolean) {
    const app = new Hono<tHono.SessionEnv<{ likes: string[] }>>();
    app.use(tHono.sessionMiddleware(sessions(), { trustProxy }));
    app.use(tHono.csrfProtection());
    app.get('/', async (c) => c.json({ token: (await c.var.session()).csrfToken() }));
    app.post('/', async (c) => {
      (await c.var.session()).push('likes', 'x');
      return c.json({ ok: true });
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          (server as unknown as { closeAllConnections(): void }).closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it.each([
    ['node:http', nodeServer],
    ['hono', honoServer],
  ])('%s: the proxied origin is this app only with trustProxy', async (_name, server) => {
    for (const trustProxy of [true, false]) {
      const browser = new Browser(await server(trustProxy));
      const { token } = (await browser.get('/')).json<{ token: string }>();
      const r = await browser.post('/', undefined, { ...proxied, 'x-csrf-token': token });
      expect(r.status, `trustProxy: ${trustProxy}`).toBe(trustProxy ? 200 : 403);
    }
  });
});

describe('a configurable property, so another session library keeps req.session', () => {
  it('Express: express-session on req.session and tessera on req.tessera, CSRF guard included', async () => {
    // Untyped here on purpose: @types/express-session's Request.session is what the property
    // option lets an app keep beside tessera's own augmentation.
    const { default: expressSession } = await import('express-session' as string);
    const app = express();
    app.use(expressSession({ secret: 'old-secret', resave: false, saveUninitialized: false }));
    app.use(sessionMiddleware(sessions(), { property: 'tessera' }));
    app.use(csrfProtection());
    const tessera = (req: express.Request) =>
      (req as unknown as { tessera: typeof req.session }).tessera;
    app.get('/', async (req, res) => {
      res.json({ token: (await tessera(req)()).csrfToken(), old: typeof req.session });
    });
    app.post('/likes', async (req, res) => {
      (await tessera(req)()).push('likes' as never, 'tea' as never);
      res.json({ likes: (await tessera(req)()).get('likes' as never) });
    });
    app.use(sessionErrors());
    const server = await listen(app);
    closers.push(server.close);
    const browser = new Browser(server.url);
    const page = (await browser.get('/')).json<{ token: string; old: string }>();
    expect(page.old).toBe('object'); // express-session's
    const r = await browser.post('/likes', undefined, { 'x-csrf-token': page.token });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ likes: ['tea'] });
    expect((await browser.post('/likes')).status).toBe(403);
  });

  it('Fastify: another plugin may decorate request.session', async () => {
    const app = Fastify();
    app.decorateRequest('session', null as never);
    await app.register(sessionPlugin, { sessions: sessions(), property: 'tessera' });
    app.post('/go', async (request) => {
      const load = (request as unknown as { tessera: typeof request.session }).tessera;
      (await load()).push('likes' as never, 'x' as never);
      return { likes: (await load()).get('likes' as never) };
    });
    const r = await app.inject({ method: 'POST', url: '/go' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ likes: ['x'] });
    expect(String(r.headers['set-cookie'])).toMatch(/^sid=/);
    await app.close();
  });
});
