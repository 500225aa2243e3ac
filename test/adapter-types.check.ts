/**
 * Type-level tests of the adapters' declaration merging: `npm run check` (tsc) fails if the
 * session data declared once in `SessionTypes` stops reaching `req.session()` (Express) and
 * `request.session()` (Fastify), or if a wrong use stops being an error.
 */
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { sessionMiddleware } from '../src/adapters/express.ts';
import { sessionPlugin } from '../src/adapters/fastify.ts';
import * as tKoa from '../src/adapters/koa.ts';
import { createSessions, memoryStore } from '../src/index.ts';

interface AppData {
  cart: string[];
  lang: 'en' | 'fr';
}
declare module '../src/index.ts' {
  interface SessionTypes {
    data: AppData;
  }
}

const sessions = createSessions<AppData>({ secrets: ['x'.repeat(32)], store: memoryStore() });

export function expressTypes(): void {
  const app = express();
  app.use(sessionMiddleware(sessions));
  app.get('/', async (req, res) => {
    const s = await req.session();
    const cart: string[] | undefined = s.get('cart');
    s.push('cart', 'apple');
    // @ts-expect-error not a language the data declares
    s.set('lang', 'de');
    // @ts-expect-error a key the data does not declare
    s.get('nope');
    res.json(cart);
  });
}

export async function fastifyTypes(): Promise<void> {
  const app = Fastify();
  await app.register(sessionPlugin, { sessions });
  // @ts-expect-error the plugin needs the sessions
  await app.register(sessionPlugin, {});
  app.get('/', async (request) => {
    const s = await request.session();
    const lang: 'en' | 'fr' | undefined = s.get('lang');
    // @ts-expect-error push onto a key that is not a list
    s.push('lang', 'x');
    return { lang };
  });
}

export function koaTypes(): void {
  const app = new Koa();
  app.use(tKoa.sessionMiddleware(sessions));
  app.use(tKoa.csrfProtection());
  app.use(async (ctx) => {
    const s = await ctx.session();
    const lang: 'en' | 'fr' | undefined = s.get('lang');
    // @ts-expect-error push onto a key that is not a list
    s.push('lang', 'x');
    ctx.body = { lang };
  });
}
