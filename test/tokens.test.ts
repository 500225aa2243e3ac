/**
 * Header tokens (`token: { header }`) below the adapters: the option's validation, which requests
 * use the header, how the Bearer scheme is read, sealed cookies in a header, and the Next.js
 * server action that cannot carry one. The behaviour over real HTTP on every adapter is in
 * adapters.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { nextSessions } from '../src/adapters/next.ts';
import type { SessionEvent } from '../src/events.ts';
import { assertCsrf, checkCsrf } from '../src/http/csrf.ts';
import type { RequestInfo } from '../src/lifecycle/request.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { defaults, type SessionsOptions } from '../src/options.ts';
import { cookieStore } from '../src/stores/cookie.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { freePort, tsBlockAfter } from './support/doc-code.ts';

const secrets = ['t'.repeat(16) + 'u'.repeat(16)];

function make(options: Partial<SessionsOptions> = {}) {
  const events: SessionEvent[] = [];
  const sessions = createSessions({
    secrets,
    store: memoryStore({ sweepInterval: 0 }),
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { sessions, events };
}

function configError(token: unknown): Error & { code?: string } {
  try {
    createSessions({ secrets, store: memoryStore({ sweepInterval: 0 }), token } as never);
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a configuration error');
}

/** Commit a request that sets `views`, and return its response headers as a map. */
async function write(sessions: ReturnType<typeof make>['sessions'], info: RequestInfo) {
  const rs = sessions.request(info);
  const s = await rs.session();
  s.set('views' as never, ((s.get('views' as never) as number | undefined) ?? 0) + 1);
  const { headers } = await rs.commit({ status: 200 });
  return { rs, session: s, headers: new Map(headers) };
}

describe('token: configuration', () => {
  it.each([
    ['not an object', 'authorization', /token must be an object/],
    ['no header', {}, /token.header is required/],
    ['a header name with a space', { header: 'x session' }, /must be a header name/],
    ['the cookie header', { header: 'cookie' }, /meaning of its own/],
    ['a Sec- header', { header: 'sec-session' }, /meaning of its own/],
    ['a CORS header', { header: 'access-control-token' }, /meaning of its own/],
    [
      'authorization as the response header',
      { header: 'x-token', responseHeader: 'Authorization' },
      /a response has no Authorization header/,
    ],
    [
      'set-cookie as the response header',
      { header: 'x-token', responseHeader: 'set-cookie' },
      /meaning of its own/,
    ],
    [
      'cookie not a boolean',
      { header: 'x-token', cookie: 'yes' },
      /token.cookie must be a boolean/,
    ],
    [
      'an unknown key',
      { header: 'x-token', scheme: 'Bearer' },
      /token: \{ header: 'authorization' \}/,
    ],
  ])('%s', (_name, token, message) => {
    const err = configError(token);
    expect(err.code).toBe('ERR_SESSION_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('resolves to a frozen view with the defaults: cookie only unless asked, x-session-token for Bearer', () => {
    expect(defaults.token).toBeNull();
    expect(make().sessions.options.token).toBeNull();
    const bearer = make({ token: { header: 'Authorization' } }).sessions.options.token;
    expect(bearer).toEqual({
      header: 'authorization',
      bearer: true,
      responseHeader: 'x-session-token',
      cookie: false,
    });
    expect(Object.isFrozen(bearer)).toBe(true);
    const custom = make({ token: { header: 'X-Auth-Token', cookie: true } }).sessions.options.token;
    expect(custom).toEqual({
      header: 'x-auth-token',
      bearer: false,
      responseHeader: 'x-auth-token',
      cookie: true,
    });
  });
});

describe('token: which requests use the header', () => {
  it('header only: every request, with or without the header; a cookie is never read nor set', async () => {
    const { sessions } = make({ token: { header: 'x-session-token' } });
    const first = await write(sessions, {});
    expect(first.rs.transport).toBe('header');
    expect(first.session.transport).toBe('header');
    expect(first.headers.has('set-cookie')).toBe(false);
    const token = first.headers.get('x-session-token')!;
    expect(token).toMatch(/\./);
    // A cookie carrying the very same value is not a way in: header only means header only.
    const viaCookie = await write(sessions, { cookie: `sid=${token}` });
    expect(viaCookie.session.isNew).toBe(true);
    const viaHeader = await write(sessions, { headers: { 'x-session-token': token } });
    expect(viaHeader.session.isNew).toBe(false);
    expect(viaHeader.session.get('views' as never)).toBe(2);
  });

  it('beside the cookie: only a request carrying the header uses it (a Web Headers or a node record)', async () => {
    const { sessions } = make({ token: { header: 'x-session-token', cookie: true } });
    expect(sessions.request({}).transport).toBe('cookie');
    expect(sessions.request({ headers: { 'x-other': 'x' } }).transport).toBe('cookie');
    expect(sessions.request({ headers: { 'x-session-token': '' } }).transport).toBe('header');
    expect(sessions.request({ headers: new Headers({ 'x-session-token': '' }) }).transport).toBe(
      'header',
    );
    // A node header record may hold a header named "get": it is a value, not a method.
    expect(sessions.request({ headers: { get: 'x', 'x-session-token': 'v' } }).transport).toBe(
      'header',
    );
  });

  it('Authorization: only the Bearer scheme (any case) is a session token; Basic is not', async () => {
    const { sessions } = make({ token: { header: 'authorization', cookie: true } });
    const via = (authorization: string) =>
      sessions.request({ headers: { authorization } }).transport;
    expect(via('Basic dXNlcjpwYXNz')).toBe('cookie');
    expect(via('Bearer')).toBe('header');
    expect(via('bearer abc')).toBe('header');
    expect(via('BEARER\tabc')).toBe('header');
    expect(via('Bearerabc')).toBe('cookie');
    const created = await write(sessions, { headers: { authorization: 'Bearer' } });
    const token = created.headers.get('x-session-token')!;
    const read = await write(sessions, { headers: { authorization: `bearer   ${token}  ` } });
    expect(read.session.get('views' as never)).toBe(2);
  });

  it('a forged header token is refused with its reason (an event, never the token), and the request gets a fresh session', async () => {
    const { sessions, events } = make({ token: { header: 'x-session-token' } });
    const first = await write(sessions, {});
    const token = first.headers.get('x-session-token')!;
    const forged = `${token.slice(0, -3)}abc`;
    const r = await write(sessions, { headers: { 'x-session-token': forged } });
    expect(r.session.isNew).toBe(true);
    const refused = events.filter((e) => e.type === 'refused');
    expect(refused.map((e) => e.type === 'refused' && e.reason)).toEqual(['forged']);
    expect(JSON.stringify(events)).not.toContain(token.split('.')[0]);
    expect(r.headers.get('x-session-token')).not.toBe(token);
  });

  it('a regenerate of a header session hands out the new token; destroy sends the header empty', async () => {
    const { sessions } = make({ token: { header: 'x-session-token' } });
    const token = (await write(sessions, {})).headers.get('x-session-token')!;
    const rs = sessions.request({ headers: { 'x-session-token': token } });
    (await rs.session()).regenerate();
    const next = new Map((await rs.commit({ status: 200 })).headers).get('x-session-token')!;
    expect(next).not.toBe(token);
    const end = sessions.request({ headers: { 'x-session-token': next } });
    await (await end.session()).destroy();
    const headers = new Map((await end.commit({ status: 200 })).headers);
    expect(headers.get('x-session-token')).toBe('');
    expect(headers.get('cache-control')).toBe('no-store');
  });
});

describe('token: with cookieStore (the sealed record travels in the header)', () => {
  const sealed = () => make({ store: cookieStore(), token: { header: 'authorization' } }).sessions;

  it('a new token on every write (the record is in it), read back by Bearer', async () => {
    const sessions = sealed();
    const first = await write(sessions, {});
    const t1 = first.headers.get('x-session-token')!;
    const second = await write(sessions, { headers: { authorization: `Bearer ${t1}` } });
    expect(second.session.get('views' as never)).toBe(2);
    const t2 = second.headers.get('x-session-token')!;
    expect(t2).not.toBe(t1);
    const third = await write(sessions, { headers: { authorization: `Bearer ${t2}` } });
    expect(third.session.get('views' as never)).toBe(3);
  });

  it('a record too large for the header limit is ERR_SESSION_COOKIE_TOO_LARGE, not a silent loss', async () => {
    const sessions = sealed();
    const rs = sessions.request({});
    (await rs.session()).set('big' as never, 'x'.repeat(5000) as never);
    await expect(rs.commit({ status: 200 })).rejects.toMatchObject({
      code: 'ERR_SESSION_COOKIE_TOO_LARGE',
    });
  });
});

describe('token: CSRF', () => {
  const facts = {
    method: 'POST',
    self: 'https://app.example',
    origin: 'https://evil.example',
    secFetchSite: 'cross-site',
    referer: undefined,
  };
  it('the kit lets a header-token request through and still checks a cookie request', async () => {
    const { sessions } = make({ token: { header: 'x-session-token', cookie: true } });
    const header = await sessions.request({ headers: { 'x-session-token': '' } }).session();
    const cookie = await sessions.request({}).session();
    expect(() => assertCsrf(facts, undefined, header)).not.toThrow();
    expect(() => assertCsrf({ ...facts, transport: 'header' }, undefined, cookie)).not.toThrow();
    expect(() => assertCsrf(facts, undefined, cookie)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CSRF' }),
    );
    const post = (headers: Record<string, string>) =>
      new Request('https://app.example/likes', { method: 'POST', headers });
    await expect(
      checkCsrf(post({ origin: 'https://evil.example' }), header),
    ).resolves.toBeUndefined();
    await expect(checkCsrf(post({ origin: 'https://evil.example' }), cookie)).rejects.toMatchObject(
      { code: 'ERR_SESSION_CSRF' },
    );
  });
});

describe('token: Next.js server actions', () => {
  it('refuse a header-token request (an action can set cookies, not response headers) and commit nothing', async () => {
    const { sessions } = make({ token: { header: 'x-session-token' } });
    const set: unknown[] = [];
    const next = nextSessions(sessions, {
      cookies: async () => ({ set: (...args: unknown[]) => set.push(args) }),
      headers: async () => new Headers(),
    });
    let ran = false;
    await expect(
      next.action(() => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_STATE' });
    expect(ran).toBe(false);
    expect(set).toEqual([]);
  });

  it('beside the cookie, an action without the header runs on the cookie as before', async () => {
    const { sessions } = make({ token: { header: 'x-session-token', cookie: true } });
    const set: unknown[] = [];
    const next = nextSessions(sessions, {
      cookies: async () => ({ set: (...args: unknown[]) => set.push(args) }),
      headers: async () => new Headers(),
    });
    await next.action((s) => s.set('views' as never, 1 as never));
    expect(set).toHaveLength(1);
    expect((set[0] as unknown[])[0]).toBe('sid');
  });
});

describe('docs/tokens.md', () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill());

  it('the complete API runs as written: Bearer login, calls, logout; cookie requests still checked for CSRF', async () => {
    const port = await freePort();
    child = spawn(
      process.execPath,
      ['--input-type=module-typescript', '-e', tsBlockAfter('docs/tokens.md', 'A complete API')],
      {
        cwd: new URL('..', import.meta.url),
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const base = `http://localhost:${port}`;
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(base + path, { method: 'POST', headers });
    let login: Response | undefined;
    for (let i = 0; i < 100 && !login; i++) {
      login = await post('/login', { authorization: 'Bearer' }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(login?.status, stderr).toBe(200);
    const token = login!.headers.get('x-session-token')!;
    expect(token).toMatch(/\./);
    expect(login!.headers.getSetCookie()).toEqual([]);
    expect(login!.headers.get('access-control-expose-headers')).toMatch(/x-session-token/i);
    const bearer = { authorization: `Bearer ${token}` };
    expect(await (await post('/calls', bearer)).json()).toEqual({ calls: 1 });
    // No CSRF token, a foreign Origin: a header token has nothing to forge.
    const foreign = await post('/calls', { ...bearer, origin: 'https://elsewhere.example' });
    expect(await foreign.json()).toEqual({ calls: 2 });
    // A cookie request beside it is still checked.
    const cookie = await post('/login');
    expect(cookie.status).toBe(403);
    expect(await cookie.text()).toContain('ERR_SESSION_CSRF');
    const out = await post('/logout', bearer);
    expect(out.headers.get('x-session-token')).toBe('');
    expect((await post('/calls', bearer)).status).toBe(401);
  });
});
