/**
 * Issue 14, "every cookieless GET of a page with a form creates a stored session": a visitor who
 * has stored nothing gets a CSRF token bound to a cookie alone (a nonce), and becomes a record
 * only when the session holds data. Through a real server and every real store: a flood of
 * cookieless form GETs writes nothing; the token verifies; twenty first writes racing after one
 * form all land in one record; a login still gets a fresh token; a token of a session that ended
 * is never reused; a forged nonce is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSessions } from '../src/adapters/node.ts';
import type { SessionEvent } from '../src/events.ts';
import { createSessions, type Sessions } from '../src/lifecycle/sessions.ts';
import type { SessionStore } from '../src/store.ts';
import { Browser, listen } from './support/http.ts';
import { storeFactories } from './support/store-factories.ts';

const SECRET = 'k3J9x_q2LmZ8vR4tY7wB1nC6pD0sF5hG';

async function formServer(sessions: Sessions<{ likes: string[] }>) {
  return listen(
    withSessions(
      sessions,
      async (req, res, load) => {
        const url = new URL(req.url ?? '/', 'http://test');
        const s = await load();
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST') {
          if (!s.verifyCsrfToken(req.headers['x-csrf-token'])) {
            res.statusCode = 403;
            return void res.end('{"error":"csrf"}');
          }
          if (url.pathname === '/like') s.push('likes', url.searchParams.get('id') ?? '?');
          if (url.pathname === '/login') s.login('user-1');
          if (url.pathname === '/logout') {
            s.logout();
            return void res.end('{}');
          }
        }
        res.end(JSON.stringify({ csrf: s.csrfToken(), likes: s.get('likes') ?? [], id: s.id }));
      },
      { onError: () => {} },
    ),
  );
}

describe.each(storeFactories)(
  'stateless CSRF token for a visitor with no record ($name)',
  (factory) => {
    let store: SessionStore;
    let server: Awaited<ReturnType<typeof formServer>>;
    const events: SessionEvent[] = [];
    const created = () => events.filter((e) => e.type === 'created').length;

    let reason: string | null = null;
    beforeAll(async () => {
      reason = await factory.unavailable();
      if (reason) return;
      store = await factory.make();
      const sessions = createSessions<{ likes: string[] }>({
        secrets: [SECRET],
        store,
        onEvent: (e) => events.push(e),
      });
      server = await formServer(sessions);
    });
    afterAll(async () => {
      await server?.close();
      await store?.close?.();
    });

    it('a flood of cookieless form GETs stores nothing, and each gets a token its cookie verifies', async (ctx) => {
      if (reason) return ctx.skip(reason);
      const before = created();
      const pages = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const b = new Browser(server.url);
          const page = (await b.get('/')).json<{ csrf: string }>();
          return { b, csrf: page.csrf };
        }),
      );
      expect(created() - before).toBe(0);
      for (const { b } of pages.slice(0, 3)) expect(b.jar.size).toBe(1);
      // A form GET again with the cookie: still nothing stored, no new cookie.
      const again = await pages[0]!.b.get('/');
      expect(again.setCookies).toEqual([]);
      expect(created() - before).toBe(0);
      // The token verifies against its own cookie only.
      const [one, two] = pages;
      expect((await one!.b.post('/noop', '', { 'x-csrf-token': two!.csrf })).status).toBe(403);
      expect((await one!.b.post('/noop', '', { 'x-csrf-token': one!.csrf })).status).toBe(200);
      expect(created() - before).toBe(0); // a POST that stored nothing stores nothing
    });

    it('twenty first writes racing after one form all land in one record', async (ctx) => {
      if (reason) return ctx.skip(reason);
      const b = new Browser(server.url);
      const { csrf } = (await b.get('/')).json<{ csrf: string }>();
      const nonceCookie = b.cookie;
      const before = created();
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          b.request(`/like?id=${i}`, {
            method: 'POST',
            headers: { 'x-csrf-token': csrf },
            cookie: nonceCookie,
          }),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(created() - before).toBe(1);
      const ids = new Set(replies.map((r) => r.json<{ id: string }>().id));
      expect(ids.size).toBe(1);
      const after = (await b.get('/')).json<{ likes: string[] }>();
      expect(after.likes.toSorted()).toEqual(
        Array.from({ length: 20 }, (_, i) => String(i)).toSorted(),
      );
      // The form's token stays valid for the session it became.
      expect((await b.post('/like?id=x', '', { 'x-csrf-token': csrf })).status).toBe(200);
    });

    it('a login from a nonce gets a fresh token (no fixation) and keeps the form valid', async (ctx) => {
      if (reason) return ctx.skip(reason);
      const b = new Browser(server.url);
      const { csrf } = (await b.get('/')).json<{ csrf: string }>();
      const nonceCookie = b.cookie;
      const login = await b.post('/login', '', { 'x-csrf-token': csrf });
      expect(login.status).toBe(200);
      expect(b.cookie).not.toBe(nonceCookie);
      const nonceToken = nonceCookie.split('=')[1]!.split('.')[0]!;
      expect(b.cookie.split('=')[1]!.split('.')[0]).not.toBe(nonceToken);
      // The nonce cookie itself never becomes the logged-in session.
      const replay = await b.request('/', { cookie: nonceCookie });
      expect(replay.json<{ id: string }>().id).not.toBe(login.json<{ id: string }>().id);
      expect((await b.post('/like?id=a', '', { 'x-csrf-token': csrf })).status).toBe(200);
    });

    it('a token of a session that ended is never a nonce: its old cookie starts nothing', async (ctx) => {
      if (reason) return ctx.skip(reason);
      const b = new Browser(server.url);
      const { csrf } = (await b.get('/')).json<{ csrf: string }>();
      await b.post('/like?id=1', '', { 'x-csrf-token': csrf }); // now a record
      const sessionCookie = b.cookie;
      const { csrf: csrf2 } = (await b.get('/')).json<{ csrf: string }>();
      await b.post('/logout', '', { 'x-csrf-token': csrf2 });
      // Replaying the ended session's cookie: its CSRF token does not verify, nothing is stored.
      const before = created();
      const replay = await b.request('/like?id=2', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf2 },
        cookie: sessionCookie,
      });
      expect(replay.status).toBe(403);
      expect(created() - before).toBe(0);
    });

    it('a forged nonce cookie is refused like any forged cookie', async (ctx) => {
      if (reason) return ctx.skip(reason);
      const b = new Browser(server.url);
      await b.get('/');
      const [name, value] = b.cookie.split('=') as [string, string];
      const forged = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
      const reply = await b.request('/', { cookie: forged });
      expect(reply.setCookies.length).toBe(1); // a new nonce, not the forged one
      expect(reply.setCookies[0]).not.toContain(value.slice(0, 43));
    });
  },
);
