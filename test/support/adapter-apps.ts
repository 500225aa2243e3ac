/**
 * One small app, written once per framework through its tessera adapter, so that the shared
 * suite in adapters.test.ts holds the same behaviour over real HTTP everywhere.
 *
 * Routes: GET /idle (never asks for the session), GET /state, POST /views (increment),
 * POST /likes (push `item` from the query or the urlencoded body), POST /slow-like (loads, waits
 * for the test's gate, then pushes), POST /login?user=, POST /logout, POST /boom (changes the
 * session, then throws), POST /fail-soft (changes the session, answers 500 without throwing),
 * POST /bad-header (changes the session, then a redirect whose Location holds a newline),
 * POST /one-liner (the response method looked up before the session is loaded) and, where the
 * framework lets a handler write a body in parts, POST /write-throw (changes the session,
 * writes, then throws). Every POST goes through the adapter's CSRF guard when `csrf` is on.
 */
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import { serve } from '@hono/node-server';
import express from 'express';
import express4Framework from 'express4';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import * as tExpress from '../../src/adapters/express.ts';
import * as tFastify from '../../src/adapters/fastify.ts';
import { withSessions as withFetchSessions } from '../../src/adapters/fetch.ts';
import * as tHono from '../../src/adapters/hono.ts';
import * as tKoa from '../../src/adapters/koa.ts';
import { nextSessions } from '../../src/adapters/next.ts';
import { checkCsrf, withSessions } from '../../src/adapters/node.ts';
import { CsrfError } from '../../src/errors.ts';
import { checkCsrf as checkFetchCsrf, sessionErrorResponse } from '../../src/http/index.ts';
import type { Sessions } from '../../src/lifecycle/sessions.ts';
import type { Session } from '../../src/session/session.ts';
import { listen } from './http.ts';

export interface Data {
  views: number;
  likes: string[];
}

export interface Hooks {
  /** Awaited by /slow-like after loading the session. */
  gate?: () => Promise<void>;
  /** Called by /slow-like once its session is loaded. */
  loaded?: () => void;
}

export interface Running {
  url: string;
  close(): Promise<void>;
}

export type AppFactory = (sessions: Sessions<Data>, hooks: Hooks) => Promise<Running>;

type Load = () => Promise<Session<Data>>;

/** The framework-free part of each route: what it does with the session and what it answers. */
const routes = {
  async state(load: Load) {
    const s = await load();
    return {
      views: s.get('views') ?? 0,
      likes: s.get('likes') ?? [],
      userId: s.userId,
      isNew: s.isNew,
      token: s.csrfToken(),
    };
  },
  async views(load: Load) {
    return { views: (await load()).increment('views') };
  },
  async like(load: Load, item: unknown) {
    (await load()).push('likes', String(item));
    return { ok: true };
  },
  async slowLike(load: Load, hooks: Hooks) {
    const s = await load();
    hooks.loaded?.();
    await hooks.gate?.();
    s.push('likes', 'late');
    return { ok: true };
  },
  async login(load: Load, user: unknown) {
    const s = await load();
    await s.login(String(user));
    return { userId: s.userId };
  },
  async logout(load: Load) {
    await (await load()).logout();
    return { ok: true };
  },
  async boom(load: Load): Promise<never> {
    (await load()).set('views', 1000);
    throw new Error('handler bug');
  },
  /** Changes the session; the caller then answers 500 itself (no exception). */
  async failSoft(load: Load) {
    (await load()).set('views', 1000);
    return { failed: true };
  },
  /** Changes the session; the caller then redirects to this (a header value Node refuses). */
  async badLocation(load: Load) {
    (await load()).set('views', 1000);
    return '/next\nSet-Cookie: admin=1';
  },
};

async function readForm(req: AsyncIterable<Buffer>): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function nodeApp(csrf: boolean): AppFactory {
  return async (sessions, hooks) =>
    listen(
      withSessions(
        sessions,
        async (req, res, load) => {
          const url = new URL(req.url ?? '/', 'http://x');
          const json = (status: number, body: unknown) => {
            res.statusCode = status;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify(body));
          };
          const q = url.searchParams;
          const form = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
          if (csrf && req.method === 'POST')
            checkCsrf(req, await load(), { formToken: form.get('_csrf') });
          switch (`${req.method} ${url.pathname}`) {
            case 'GET /idle':
              return res.end('idle');
            case 'GET /state':
              return json(200, await routes.state(load));
            case 'POST /views':
              return json(200, await routes.views(load));
            case 'POST /likes':
              return json(200, await routes.like(load, q.get('item') ?? form.get('item')));
            case 'POST /slow-like':
              return json(200, await routes.slowLike(load, hooks));
            case 'POST /login':
              return json(200, await routes.login(load, q.get('user')));
            case 'POST /logout':
              return json(200, await routes.logout(load));
            case 'POST /boom':
              return json(200, await routes.boom(load));
            case 'POST /fail-soft':
              return json(500, await routes.failSoft(load));
            case 'POST /bad-header': {
              const location = await routes.badLocation(load);
              res.writeHead(303, { location });
              return res.end();
            }
            case 'POST /one-liner':
              return res.end(String((await load()).increment('views')));
            case 'POST /write-throw':
              (await load()).set('views', 1000);
              res.write('partial');
              throw new Error('after write');
            default:
              return json(404, {});
          }
        },
        { onError: () => {} },
      ),
    );
}

/** Express 5 (`express`) or Express 4 (`express4`, an alias dev dependency): one app for both. */
export function expressApp(csrf: boolean, framework: typeof express = express): AppFactory {
  return async (sessions, hooks) => {
    const app = framework();
    // Express 4 does not catch a rejected async handler (Express 5 does): pass it to next(),
    // as every Express 4 app must.
    const caught =
      (fn: (req: express.Request, res: express.Response) => Promise<unknown>) =>
      (req: express.Request, res: express.Response, next: express.NextFunction) =>
        void fn(req, res).catch(next);
    // extended: false is body-parser's default; saying it keeps Express 4 from printing a
    // deprecation about the option's absence.
    app.use(framework.urlencoded({ extended: false }));
    app.use(tExpress.sessionMiddleware(sessions));
    if (csrf) app.use(tExpress.csrfProtection());
    const load = (req: express.Request) => req.session as unknown as Load;
    app.get('/idle', (_req, res) => {
      res.send('idle');
    });
    app.get(
      '/state',
      caught(async (req, res) => {
        res.json(await routes.state(load(req)));
      }),
    );
    app.post(
      '/views',
      caught(async (req, res) => {
        res.json(await routes.views(load(req)));
      }),
    );
    app.post(
      '/likes',
      caught(async (req, res) => {
        res.json(await routes.like(load(req), req.query['item'] ?? req.body?.item));
      }),
    );
    app.post(
      '/slow-like',
      caught(async (req, res) => {
        res.json(await routes.slowLike(load(req), hooks));
      }),
    );
    app.post(
      '/login',
      caught(async (req, res) => {
        res.json(await routes.login(load(req), req.query['user']));
      }),
    );
    app.post(
      '/logout',
      caught(async (req, res) => {
        res.json(await routes.logout(load(req)));
      }),
    );
    app.post(
      '/boom',
      caught(async (req, res) => {
        res.json(await routes.boom(load(req)));
      }),
    );
    app.post(
      '/fail-soft',
      caught(async (req, res) => {
        res.status(500).json(await routes.failSoft(load(req)));
      }),
    );
    app.post(
      '/bad-header',
      caught(async (req, res) => {
        const location = await routes.badLocation(load(req));
        res.writeHead(303, { location });
        res.end();
      }),
    );
    app.post(
      '/one-liner',
      caught(async (req, res) => {
        res.end(String((await req.session()).increment('views' as never)));
      }),
    );
    app.post(
      '/write-throw',
      caught(async (req, res) => {
        (await load(req)()).set('views', 1000);
        res.write('partial');
        throw new Error('after write');
      }),
    );
    app.use(tExpress.sessionErrors());
    app.use(
      (
        _err: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(500).send('oops');
      },
    );
    return listen(app);
  };
}

export function fastifyApp(csrf: boolean): AppFactory {
  return async (sessions, hooks) => {
    const app = Fastify();
    await app.register(formbody);
    await app.register(tFastify.sessionPlugin, { sessions });
    if (csrf) app.addHook('preHandler', tFastify.csrfProtection());
    const load = (req: { session: unknown }) => req.session as Load;
    const query = (req: { query: unknown }) => req.query as Record<string, string | undefined>;
    app.get('/idle', async () => 'idle');
    app.get('/state', async (req) => routes.state(load(req)));
    app.post('/views', async (req) => routes.views(load(req)));
    app.post('/likes', async (req) =>
      routes.like(load(req), query(req)['item'] ?? (req.body as { item?: string })?.item),
    );
    app.post('/slow-like', async (req) => routes.slowLike(load(req), hooks));
    app.post('/login', async (req) => routes.login(load(req), query(req)['user']));
    app.post('/logout', async (req) => routes.logout(load(req)));
    app.post('/boom', async (req) => routes.boom(load(req)));
    app.post('/fail-soft', async (req, reply) =>
      reply.code(500).send(await routes.failSoft(load(req))),
    );
    app.post('/bad-header', async (req, reply) =>
      reply.redirect(await routes.badLocation(load(req)), 303),
    );
    app.post('/one-liner', async (req, reply) =>
      reply.send(String((await load(req)()).increment('views'))),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  };
}

export function koaApp(csrf: boolean): AppFactory {
  return async (sessions, hooks) => {
    const app = new Koa();
    app.silent = true; // the 500s below are the tests' own
    app.use(tKoa.sessionMiddleware(sessions));
    if (csrf) app.use(tKoa.csrfProtection());
    app.use(async (ctx) => {
      const load = ctx.session as unknown as Load;
      const form =
        ctx.method === 'POST'
          ? ((ctx.request as { body?: Record<string, string> }).body ??
            Object.fromEntries(await readForm(ctx.req)))
          : {};
      const q = ctx.query as Record<string, string | undefined>;
      switch (`${ctx.method} ${ctx.path}`) {
        case 'GET /idle':
          ctx.body = 'idle';
          return;
        case 'GET /state':
          ctx.body = await routes.state(load);
          return;
        case 'POST /views':
          ctx.body = await routes.views(load);
          return;
        case 'POST /likes':
          ctx.body = await routes.like(load, q['item'] ?? form['item']);
          return;
        case 'POST /slow-like':
          ctx.body = await routes.slowLike(load, hooks);
          return;
        case 'POST /login':
          ctx.body = await routes.login(load, q['user']);
          return;
        case 'POST /logout':
          ctx.body = await routes.logout(load);
          return;
        case 'POST /boom':
          ctx.body = await routes.boom(load);
          return;
        case 'POST /fail-soft':
          ctx.body = await routes.failSoft(load);
          ctx.status = 500;
          return;
        case 'POST /bad-header':
          // ctx.redirect would percent-encode the newline: set the header as a handler might.
          ctx.set('location', await routes.badLocation(load));
          ctx.status = 303;
          return;
        case 'POST /one-liner':
          ctx.body = String((await load()).increment('views'));
          return;
      }
    });
    return listen(app.callback());
  };
}

async function serveFetch(fetch: (request: Request) => Response | Promise<Response>) {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function honoApp(csrf: boolean): AppFactory {
  return async (sessions, hooks) => {
    const app = new Hono<tHono.SessionEnv<Data>>();
    app.use(tHono.sessionMiddleware(sessions));
    if (csrf) app.use(tHono.csrfProtection());
    app.get('/idle', (c) => c.text('idle'));
    app.get('/state', async (c) => c.json(await routes.state(c.var.session)));
    app.post('/views', async (c) => c.json(await routes.views(c.var.session)));
    app.post('/likes', async (c) => {
      const item = c.req.query('item') ?? (await c.req.parseBody())['item'];
      return c.json(await routes.like(c.var.session, item));
    });
    app.post('/slow-like', async (c) => c.json(await routes.slowLike(c.var.session, hooks)));
    app.post('/login', async (c) => c.json(await routes.login(c.var.session, c.req.query('user'))));
    app.post('/logout', async (c) => c.json(await routes.logout(c.var.session)));
    app.post('/boom', async (c) => c.json(await routes.boom(c.var.session)));
    app.post('/fail-soft', async (c) => c.json(await routes.failSoft(c.var.session), 500));
    app.post('/bad-header', async (c) => c.redirect(await routes.badLocation(c.var.session), 303));
    app.post('/one-liner', async (c) => c.text(String((await c.var.session()).increment('views'))));
    app.onError((_err, c) => c.text('oops', 500));
    return serveFetch(app.fetch);
  };
}

type Wrap = (
  sessions: Sessions<Data>,
  handler: (request: Request, load: Load) => Promise<Response>,
) => (request: Request) => Promise<Response>;

/** tessera/fetch's `withSessions`, or (see nextApp) another binding built on it. */
export function fetchApp(csrf: boolean, wrap: Wrap = withFetchSessions): AppFactory {
  return async (sessions, hooks) => {
    const handler = wrap(sessions, async (request, load) => {
      const url = new URL(request.url);
      const q = url.searchParams;
      // The kit's check for Request/Response code reads the form from a clone: the body stays.
      if (csrf) await checkFetchCsrf(request, await load());
      const form =
        request.method === 'POST'
          ? new URLSearchParams(await request.text())
          : new URLSearchParams();
      switch (`${request.method} ${url.pathname}`) {
        case 'GET /idle':
          return new Response('idle');
        case 'GET /state':
          return Response.json(await routes.state(load));
        case 'POST /views':
          return Response.json(await routes.views(load));
        case 'POST /likes':
          return Response.json(await routes.like(load, q.get('item') ?? form.get('item')));
        case 'POST /slow-like':
          return Response.json(await routes.slowLike(load, hooks));
        case 'POST /login':
          return Response.json(await routes.login(load, q.get('user')));
        case 'POST /logout':
          return Response.json(await routes.logout(load));
        case 'POST /boom':
          return Response.json(await routes.boom(load));
        case 'POST /fail-soft':
          return Response.json(await routes.failSoft(load), { status: 500 });
        case 'POST /bad-header':
          return new Response(null, {
            status: 303,
            headers: { location: await routes.badLocation(load) },
          });
        case 'POST /one-liner':
          return new Response(String((await load()).increment('views')));
        default:
          return new Response('not found', { status: 404 });
      }
    });
    return serveFetch(async (request) => {
      try {
        return await handler(request);
      } catch (err) {
        if (err instanceof CsrfError) return sessionErrorResponse(err);
        return new Response('oops', { status: 500 });
      }
    });
  };
}

/** The Express app on Express 4. */
export const express4 = (csrf: boolean): AppFactory =>
  expressApp(csrf, express4Framework as unknown as typeof express);

/**
 * Next.js route handlers: the fetch app's handler through `nextSessions(…).route()`, served over
 * real HTTP (Next itself is walked by test/next.test.ts; `cookies()` and `headers()` are used only
 * by actions and server components, which route handlers never reach).
 */
export const nextApp = (csrf: boolean): AppFactory =>
  fetchApp(csrf, (sessions, handler) =>
    nextSessions(sessions, {
      cookies: async () => ({ set: () => undefined }),
      headers: async () => new Headers(),
    }).route(handler),
  );
