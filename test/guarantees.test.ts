/**
 * Issue 14's attacks on the core, each through a real store (and, for the race, a real server):
 * regenerate racing a logout or a "sign out everywhere", values every store keeps alike, junk
 * cookies ahead of the real one, and the refusals an operator can see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSessions } from '../src/adapters/node.ts';
import { isSessionError } from '../src/errors.ts';
import type { SessionEvent } from '../src/events.ts';
import type { Sessions } from '../src/lifecycle/sessions.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import type { SessionStore } from '../src/store.ts';
import { Browser, listen } from './support/http.ts';
import { storeFactories } from './support/store-factories.ts';

const SECRET = 'k3J9x_q2LmZ8vR4tY7wB1nC6pD0sF5hG';

/** A server whose POST /slow-* loads the session, waits for `gate`, then acts. */
async function raceServer(sessions: Sessions) {
  let open: () => void = () => {};
  let loaded: () => void = () => {};
  const state = {
    gate: Promise.resolve(),
    loaded: Promise.resolve(),
    arm() {
      state.gate = new Promise<void>((r) => {
        open = r;
      });
      state.loaded = new Promise<void>((r) => {
        loaded = r;
      });
    },
    open: () => open(),
  };
  const server = await listen(
    withSessions(
      sessions,
      async (req, res, load) => {
        const url = new URL(req.url ?? '/', 'http://test');
        const s = await load();
        const user = url.searchParams.get('user') ?? '';
        switch (url.pathname) {
          case '/login':
            s.login(user);
            s.set('secret', `of ${user}`);
            break;
          case '/logout':
            s.logout();
            break;
          case '/revoke-all':
            await sessions.revokeUserSessions(user);
            break;
          case '/slow-regenerate':
          case '/slow-login':
            loaded();
            await state.gate;
            if (url.pathname === '/slow-login') s.login(user);
            else s.regenerate();
            break;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ userId: s.userId, secret: s.get('secret') ?? null }));
      },
      { onError: () => {} },
    ),
  );
  return { ...server, race: state };
}

describe.each(storeFactories)('regenerate racing a logout or a revoke ($name)', (factory) => {
  let reason: string | null = null;
  let store: SessionStore;
  let sessions: Sessions;
  let server: Awaited<ReturnType<typeof raceServer>>;
  beforeAll(async () => {
    reason = await factory.unavailable();
    if (reason) return;
    store = await factory.make();
    sessions = createSessions({ secrets: [SECRET], store, logger: false });
    server = await raceServer(sessions);
  });
  afterAll(async () => {
    if (reason) return;
    await server.close();
    await store.close?.();
  });

  for (const [ending, via] of [
    ['logout', (b: Browser) => b.post('/logout')],
    ['revokeUserSessions', (b: Browser) => b.post(`/revoke-all?user=${b.base.length}`)],
  ] as const) {
    for (const action of ['slow-regenerate', 'slow-login']) {
      it(`${action} after a ${ending} completed: no live session comes out of it`, async (ctx) => {
        if (reason) return ctx.skip(reason);
        const user = String(server.url.length);
        const victim = new Browser(server.url);
        await victim.post(`/login?user=${user}`);
        const stolen = victim.jar.get('sid') as string;
        const thief = new Browser(server.url);
        thief.jar.set('sid', stolen);
        server.race.arm();
        const inFlight = thief.post(`/${action}?user=${user}`);
        await server.race.loaded; // the thief's request holds the live session
        const ended = await via(victim);
        expect(ended.status).toBe(200);
        server.race.open();
        const r = await inFlight;
        expect(r.status).toBe(200);
        // No cookie for the dead session, and nothing lives under the user any more.
        expect(r.setCookies.filter((c) => !c.startsWith('sid=;'))).toEqual([]);
        expect(await sessions.listSessions(user)).toEqual([]);
        const after = await thief.get('/');
        expect(after.json()).toMatchObject({ userId: null, secret: null });
      });
    }
  }

  it('without a race, regenerate keeps the data and the user', async (ctx) => {
    if (reason) return ctx.skip(reason);
    const b = new Browser(server.url);
    await b.post('/login?user=zed');
    const before = b.jar.get('sid');
    server.race.arm();
    const r = b.post('/slow-regenerate');
    await server.race.loaded;
    server.race.open();
    expect((await r).json()).toMatchObject({ userId: 'zed', secret: 'of zed' });
    expect(b.jar.get('sid')).not.toBe(before);
    expect((await b.get('/')).json()).toMatchObject({ userId: 'zed', secret: 'of zed' });
  });
});

describe.each(storeFactories)('values every store keeps alike ($name)', (factory) => {
  let reason: string | null = null;
  let store: SessionStore;
  let sessions: Sessions;
  beforeAll(async () => {
    reason = await factory.unavailable();
    if (reason) return;
    store = await factory.make();
    sessions = createSessions({ secrets: [SECRET], store, logger: false });
  });
  afterAll(async () => {
    if (!reason) await store.close?.();
  });

  async function roundTrip(
    change: (s: Awaited<ReturnType<ReturnType<Sessions['request']>['session']>>) => void,
  ) {
    const rs = sessions.request({ secure: true });
    const s = await rs.session();
    s.set('base', 1);
    change(s);
    const { headers } = await rs.commit();
    const cookie = (headers[0]?.[1] ?? '').split(';')[0];
    return sessions.request({ cookie, secure: true }).session();
  }

  it.each([
    [
      'a NUL in a string',
      (s: never) => (s as { set: (k: string, v: unknown) => void }).set('x', 'tea\u0000'),
    ],
    [
      'a NUL in a nested key',
      (s: never) => (s as { set: (k: string, v: unknown) => void }).set('x', { 'a\u0000': 1 }),
    ],
    [
      'a lone surrogate',
      (s: never) => (s as { set: (k: string, v: unknown) => void }).set('x', 'a\uD800b'),
    ],
    [
      'a NUL in a session key',
      (s: never) => (s as { set: (k: string, v: unknown) => void }).set('a\u0000', 1),
    ],
    [
      'a NUL in a user id',
      (s: never) => (s as { login: (u: string) => void }).login('al\u0000ice'),
    ],
    [
      'a lone surrogate in a user id',
      (s: never) => (s as { login: (u: string) => void }).login('\uDC00'),
    ],
    [
      'a "__proto__" member',
      (s: never) =>
        (s as { set: (k: string, v: unknown) => void }).set(
          'x',
          JSON.parse('{"__proto__":{"a":1}}'),
        ),
    ],
    [
      '"__proto__" as a key',
      (s: never) => (s as { set: (k: string, v: unknown) => void }).set('__proto__', 1),
    ],
    [
      'a value nested 20 000 deep',
      (s: never) => {
        let deep: unknown = 1;
        for (let i = 0; i < 20_000; i++) deep = [deep];
        (s as { set: (k: string, v: unknown) => void }).set('x', deep);
      },
    ],
  ])('%s is a TypeError at the call, and nothing is lost', async (_name, change) => {
    if (reason) return;
    let thrown: unknown;
    const s = await roundTrip((session) => {
      try {
        change(session as never);
      } catch (err) {
        thrown = err;
      }
    });
    expect(thrown).toBeInstanceOf(TypeError);
    expect(s.get('base' as never)).toBe(1); // the rest of the request was kept
  });

  it('increment whose result is not finite is a TypeError; the stored number is unchanged', async () => {
    if (reason) return;
    let thrown: unknown;
    const s = await roundTrip((session) => {
      session.increment('n' as never, 1e308);
      try {
        session.increment('n' as never, 1e308);
      } catch (err) {
        thrown = err;
      }
    });
    expect(thrown).toBeInstanceOf(TypeError);
    expect(s.get('n' as never)).toBe(1e308);
  });

  it('own keys only: nothing inherited from Object.prototype', async () => {
    if (reason) return;
    const s = await roundTrip(() => {});
    expect(s.has('constructor' as never)).toBe(false);
    expect(s.get('toString' as never)).toBeUndefined();
    expect(s.keys()).toEqual(['base']);
  });

  it('text every store can keep round-trips exactly (astral characters, quotes, backslashes)', async () => {
    if (reason) return;
    const text = 'tea 🍵 "earl" \\ grey \u2028';
    const s = await roundTrip((session) => session.set('t' as never, text as never));
    expect(s.get('t' as never)).toBe(text);
  });
});

describe('cookies', () => {
  it('junk cookies of the session name ahead of the real one (a sibling subdomain) do not sign the visitor out', async () => {
    const { memoryStore } = await import('../src/stores/memory.ts');
    const events: SessionEvent[] = [];
    const sessions = createSessions({
      secrets: [SECRET],
      store: memoryStore(),
      logger: false,
      onEvent: (e) => events.push(e),
    });
    const rs = sessions.request({ secure: true });
    (await rs.session()).set('who', 'me');
    const real = (await rs.commit()).headers[0]![1].split(';')[0]!;
    const junk = Array.from(
      { length: 150 },
      (_, i) => `sid=${i % 2 ? 'x'.repeat(87) : 'A'.repeat(43) + '.' + 'B'.repeat(43)}`,
    );
    const s = await sessions
      .request({ cookie: [...junk, real].join('; '), secure: true })
      .session();
    expect(s.get('who' as never)).toBe('me');
    const refused = events.filter((e) => e.type === 'refused');
    expect(refused).toHaveLength(150);
    expect(new Set(refused.map((e) => e.type === 'refused' && e.reason))).toEqual(
      new Set(['malformed', 'forged']),
    );
    expect(JSON.stringify(refused)).not.toContain(real.slice(4, 47)); // never the token
  });
});

describe('errors narrow on code', () => {
  it('isSessionError + switch (err.code) reaches the subclass fields', async () => {
    const { cookieStore } = await import('../src/stores/cookie.ts');
    const sessions = createSessions({ secrets: [SECRET], store: cookieStore(), logger: false });
    const rs = sessions.request({ secure: true });
    (await rs.session()).set('big', 'x'.repeat(5000));
    const err = await rs.commit().catch((e: unknown) => e);
    if (!isSessionError(err)) throw new Error('expected a SessionError');
    switch (err.code) {
      case 'ERR_SESSION_COOKIE_TOO_LARGE':
        expect(err.size).toBeGreaterThan(err.limit);
        break;
      default:
        throw new Error(`unexpected ${err.code}`);
    }
  });
});

describe('sealed cookies: regenerate racing "sign out everywhere"', () => {
  it('a request that loaded the cookie before the revoke gets no live cookie from regenerate or login', async () => {
    const { cookieStore } = await import('../src/stores/cookie.ts');
    const { memoryStore } = await import('../src/stores/memory.ts');
    const { revocationList } = await import('../src/stores/revocation-list.ts');
    const clock = { now: Date.now() };
    const sessions = createSessions({
      secrets: [SECRET],
      store: cookieStore({ revocations: revocationList(memoryStore({ sweepInterval: 0 })) }),
      now: () => clock.now,
      logger: false,
    });
    const server = await raceServer(sessions);
    try {
      for (const action of ['slow-regenerate', 'slow-login']) {
        const victim = new Browser(server.url);
        await victim.post('/login?user=ann');
        const thief = new Browser(server.url);
        thief.jar.set('sid', victim.jar.get('sid') as string);
        clock.now += 1000;
        server.race.arm();
        const inFlight = thief.post(`/${action}?user=ann`);
        await server.race.loaded;
        await victim.post('/revoke-all?user=ann');
        server.race.open();
        const r = await inFlight;
        expect(r.status).toBe(200);
        expect(r.setCookies).toEqual([]);
        expect((await thief.get('/')).json()).toMatchObject({ userId: null, secret: null });
        clock.now += 1000;
      }
    } finally {
      await server.close();
    }
  });
});
