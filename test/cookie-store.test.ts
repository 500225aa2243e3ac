/**
 * cookieStore through a real node:http server on port 0: the session lives only in the sealed
 * cookie, so every behaviour here is what the browser carries back — and what the server refuses.
 *
 * The store conformance suite does not apply: there is no store to call. What it would check
 * about concurrency cannot hold statelessly and is pinned here as a documented limitation
 * (last write wins), next to what does hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/adapters/node.ts';
import type { SessionEvent } from '../src/events.ts';
import type { Sessions } from '../src/lifecycle/sessions.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import type { SessionsOptions } from '../src/options.ts';
import type { SealedPayload, SealedStore } from '../src/store.ts';
import { cookieStore } from '../src/stores/cookie.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { revocationList } from '../src/stores/revocation-list.ts';
import { testApp } from './support/app.ts';
import { Browser, listen } from './support/http.ts';
import { counted } from './support/stores.ts';

const SECRET = 'a'.repeat(32);
const OLD_SECRET = 'o'.repeat(32);
const NEW_SECRET = 'n'.repeat(32);
const MINUTE = 60_000;

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

interface Setup {
  options?: Partial<SessionsOptions>;
  store?: SealedStore;
  clock?: { now: number };
}

async function setup({
  options = {},
  store = cookieStore(),
  clock = { now: Date.now() },
}: Setup = {}) {
  const events: SessionEvent[] = [];
  const sessions = createSessions({
    secrets: [SECRET],
    store,
    now: () => clock.now,
    onEvent: (e) => events.push(e),
    ...options,
  });
  const server = await listen(testApp(sessions as never));
  closers.push(server.close, () => sessions.close());
  return { clock, sessions, events, browser: new Browser(server.url), url: server.url };
}

/** Open a cookie value the way a server holding `secrets` would (for assertions only). */
function peek(value: string | undefined, secrets = [SECRET], name = 'sid'): SealedPayload | null {
  if (value === undefined) return null;
  const codec = cookieStore().bind(secrets.map((s) => Buffer.from(s)));
  return codec.open(value, name)?.payload ?? null;
}

const sid = (b: Browser) => b.jar.get('sid');

describe('round trip', () => {
  it('a request without a cookie is a fresh session and sets no cookie', async () => {
    const { browser } = await setup();
    const r = await browser.get('/get?key=x');
    expect(r.json()).toMatchObject({ out: null, isNew: true });
    expect(r.setCookies).toEqual([]);
  });

  it('the first write sets a sealed cookie; the next requests read the data back', async () => {
    const { browser } = await setup();
    const w = await browser.post('/set?key=likes&value=["tea","scone"]');
    expect(w.setCookies).toHaveLength(1);
    expect(sid(browser)).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    await browser.post('/set?key=lang&value="fr"');
    const r = await browser.get('/get?key=likes');
    expect(r.json()).toMatchObject({ out: ['tea', 'scone'], isNew: false });
    expect(r.json<{ keys: string[] }>().keys.sort()).toEqual(['lang', 'likes']);
    expect(peek(sid(browser))?.record.data).toEqual({ likes: ['tea', 'scone'], lang: 'fr' });
  });

  it('push, increment and delete are carried in the cookie too', async () => {
    const { browser } = await setup();
    await browser.post('/push?key=cart&value="a"');
    await browser.post('/push?key=cart&value="b"');
    await browser.post('/increment?key=n');
    expect((await browser.post('/increment?key=n')).json()).toMatchObject({ out: 2 });
    expect((await browser.post('/delete?key=n')).json()).toMatchObject({ out: true });
    expect((await browser.get('/get?key=cart')).json()).toMatchObject({
      out: ['a', 'b'],
      keys: ['cart'],
    });
  });

  it('a read that changes nothing sets no cookie; every write re-seals with a fresh nonce', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=a&value=1');
    const first = sid(browser);
    expect((await browser.get('/get?key=a')).setCookies).toEqual([]);
    await browser.post('/set?key=a&value=1');
    expect(sid(browser)).not.toBe(first);
    expect(peek(sid(browser))?.id).toBe(peek(first)?.id);
  });

  it('the cookie does not show the data, the user or the id in clear', async () => {
    const { browser } = await setup();
    const marker = 'plaintext-marker-4f1c';
    await browser.post(`/set?key=private-note&value="${marker}"`);
    await browser.post('/login?user=dana-the-user');
    const value = sid(browser)!;
    const payload = peek(value)!;
    expect(payload.record.data['private-note']).toBe(marker);
    const bytes = Buffer.from(value.slice(3), 'base64url');
    for (const secret of [marker, 'dana-the-user', payload.id, 'private-note']) {
      expect(value).not.toContain(secret);
      expect(bytes.includes(secret)).toBe(false);
    }
  });

  it('attributes: HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age = idle time left; no-store, Vary', async () => {
    const { browser } = await setup({ options: { idleTimeout: '30m' } });
    const r = await browser.post('/set?key=a&value=1');
    expect(r.setCookies[0]).toMatch(
      /^sid=v1\.[A-Za-z0-9_-]+; Path=\/; Max-Age=1800; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('vary')).toBe('Cookie');
  });

  it('the record carries no user agent or IP: nothing could read them, and bytes are scarce', async () => {
    const { browser } = await setup({ options: { trackMeta: true } });
    await browser.post('/set?key=a&value=1', undefined, { 'user-agent': 'x'.repeat(200) });
    expect(peek(sid(browser))?.record.meta).toEqual({});
  });

  it.each([
    [
      'one character changed',
      (v: string) => v.slice(0, 20) + (v[20] === 'A' ? 'B' : 'A') + v.slice(21),
    ],
    ['truncated', (v: string) => v.slice(0, -1)],
    ['extended', (v: string) => v + 'A'],
    ['another version', (v: string) => 'v2' + v.slice(2)],
    ['a signed token (server-store format)', () => `${'A'.repeat(43)}.${'B'.repeat(43)}`],
    ['garbage', () => '%%%;not a cookie'],
    ['empty', () => ''],
  ])('%s: a fresh session, no exception, no cookie set', async (_name, mutate) => {
    const { browser } = await setup();
    await browser.post('/set?key=a&value=1');
    const r = await browser.request('/get?key=a', { cookie: `sid=${mutate(sid(browser)!)}` });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ out: null, isNew: true });
    expect(r.setCookies).toEqual([]);
  });

  it('with two sid cookies (path and domain variants), the one that opens wins', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=a&value=1');
    const good = sid(browser)!;
    const r = await browser.request('/get?key=a', { cookie: `sid=v1.forged; sid=${good}` });
    expect(r.json()).toMatchObject({ out: 1 });
  });
});

describe('expiry, enforced from the sealed record', () => {
  it('idle timeout: the sliding expiry lives in the payload, not in the cookie’s Max-Age', async () => {
    const { browser, clock, events } = await setup({
      options: { idleTimeout: '30m', touchAfter: '1m' },
    });
    await browser.post('/set?key=a&value=1');
    const original = sid(browser)!;
    clock.now += 29 * MINUTE;
    const touched = await browser.get('/get?key=a');
    expect(touched.json()).toMatchObject({ out: 1 });
    expect(touched.setCookies[0]).toMatch(/Max-Age=1800;/); // re-sealed with the slid expiry
    clock.now += 29 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
    // The test browser ignores Max-Age > 0, like a client that keeps a cookie past its expiry:
    // the first cookie, replayed 58 minutes later, is refused from its own sealed expiry.
    const replay = await browser.request('/get?key=a', { cookie: `sid=${original}` });
    expect(replay.json()).toMatchObject({ out: null, isNew: true });
    expect(replay.setCookies).toEqual([]);
    clock.now += 31 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: null, isNew: true });
    expect(events.filter((e) => e.type === 'expired')).toHaveLength(2);
  });

  it('absolute timeout: however active, the session dies absoluteTimeout after creation', async () => {
    const { browser, clock } = await setup({
      options: { idleTimeout: '30m', absoluteTimeout: '1h', touchAfter: '1m' },
    });
    await browser.post('/set?key=a&value=1');
    const createdAt = peek(sid(browser))!.record.createdAt;
    for (let i = 0; i < 5; i++) {
      clock.now += 10 * MINUTE;
      expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
    }
    const last = await browser.post('/set?key=b&value=2');
    expect(last.setCookies[0]).toMatch(/Max-Age=600;/); // never beyond the absolute limit
    expect(peek(sid(browser))!.record).toMatchObject({
      createdAt,
      absoluteExpiresAt: createdAt + 60 * MINUTE,
      expiresAt: createdAt + 60 * MINUTE,
    });
    clock.now += 10 * MINUTE;
    expect((await browser.get('/get?key=a')).json()).toMatchObject({ out: null, isNew: true });
  });

  it('touch is throttled: reads within touchAfter set no cookie, then one re-seal', async () => {
    const { browser, clock } = await setup({ options: { idleTimeout: '30m', touchAfter: '5m' } });
    await browser.post('/set?key=a&value=1');
    for (let i = 0; i < 4; i++) {
      clock.now += MINUTE;
      expect((await browser.get('/get?key=a')).setCookies).toEqual([]);
    }
    clock.now += MINUTE;
    const touched = await browser.get('/get?key=a');
    expect(touched.setCookies).toHaveLength(1);
    expect(peek(sid(browser))!.record.lastSeenAt).toBe(clock.now);
    clock.now += MINUTE;
    expect((await browser.get('/get?key=a')).setCookies).toEqual([]);
  });
});

describe('regenerate, login, logout', () => {
  it('regenerate: a new id, the same data', async () => {
    const { browser, events } = await setup();
    await browser.post('/set?key=a&value=1');
    const before = peek(sid(browser))!;
    await browser.post('/regenerate');
    const after = peek(sid(browser))!;
    expect(after.id).not.toBe(before.id);
    expect(after.record.data).toEqual({ a: 1 });
    expect(events.at(-1)).toMatchObject({
      type: 'regenerated',
      id: after.id,
      previousId: before.id,
    });
  });

  it('login: a new id, the data kept, the user bound, the CSRF secret replaced', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=cart&value=["tea"]');
    await browser.get('/csrf');
    const before = peek(sid(browser))!;
    const r = await browser.post('/login?user=dana');
    expect(r.json()).toMatchObject({ userId: 'dana' });
    const after = peek(sid(browser))!;
    expect(after.id).not.toBe(before.id);
    expect(after.record.userId).toBe('dana');
    expect(after.record.data['cart']).toEqual(['tea']);
    expect(after.record.data['$csrf']).toBeUndefined();
    expect((await browser.get('/get?key=cart')).json()).toMatchObject({
      out: ['tea'],
      userId: 'dana',
    });
  });

  it('logout expires the cookie (same name and path) and the next request is anonymous', async () => {
    const { browser } = await setup();
    await browser.post('/login?user=dana');
    const r = await browser.post('/logout');
    expect(r.setCookies).toHaveLength(1);
    expect(r.setCookies[0]).toMatch(/^sid=; Path=\/; Max-Age=0;/);
    expect(sid(browser)).toBeUndefined();
    expect((await browser.get('/get?key=x')).json()).toMatchObject({ userId: null, isNew: true });
  });

  it('documented limitation: without revocations, a copy of the cookie outlives logout until it expires', async () => {
    const { browser, clock } = await setup({ options: { idleTimeout: '30m' } });
    await browser.post('/login?user=dana');
    const copy = sid(browser)!;
    await browser.post('/logout');
    const replay = await browser.request('/get?key=x', { cookie: `sid=${copy}` });
    expect(replay.json()).toMatchObject({ userId: 'dana' });
    clock.now += 31 * MINUTE;
    const late = await browser.request('/get?key=x', { cookie: `sid=${copy}` });
    expect(late.json()).toMatchObject({ userId: null, isNew: true });
  });
});

describe('secret rotation', () => {
  it('a cookie sealed with an old secret opens with [new, old] and is re-sealed with the new one', async () => {
    const clock = { now: Date.now() };
    const old = await setup({ options: { secrets: [OLD_SECRET] }, clock });
    await old.browser.post('/set?key=a&value=1');
    const oldCookie = sid(old.browser)!;
    expect(peek(oldCookie, [NEW_SECRET])).toBeNull();

    const rotated = await setup({ options: { secrets: [NEW_SECRET, OLD_SECRET] }, clock });
    rotated.browser.jar.set('sid', oldCookie);
    const r = await rotated.browser.get('/get?key=a');
    expect(r.json()).toMatchObject({ out: 1, isNew: false });
    expect(r.setCookies).toHaveLength(1); // re-sealed on this very response, nothing changed
    const resealed = sid(rotated.browser)!;
    expect(peek(resealed, [NEW_SECRET])).toMatchObject({ id: peek(oldCookie, [OLD_SECRET])!.id });
    expect(peek(resealed, [OLD_SECRET])).toBeNull();
    expect((await rotated.browser.get('/get?key=a')).setCookies).toEqual([]);

    const current = await setup({ options: { secrets: [NEW_SECRET] }, clock });
    current.browser.jar.set('sid', resealed);
    expect((await current.browser.get('/get?key=a')).json()).toMatchObject({ out: 1 });
    current.browser.jar.set('sid', oldCookie);
    expect((await current.browser.get('/get?key=a')).json()).toMatchObject({
      out: null,
      isNew: true,
    });
  });
});

describe('the cookie name is bound to the value', () => {
  it('a value moved to another cookie name does not open, even with the same secrets', async () => {
    const clock = { now: Date.now() };
    const host = await setup({ options: { cookie: { name: '__Host-sid' } }, clock });
    await host.browser.post('/set?key=role&value="admin"');
    const value = host.browser.jar.get('__Host-sid')!;
    const plain = await setup({ clock });
    const r = await plain.browser.request('/get?key=role', { cookie: `sid=${value}` });
    expect(r.json()).toMatchObject({ out: null, isNew: true });
    const back = await host.browser.request('/get?key=role', { cookie: `__Host-sid=${value}` });
    expect(back.json()).toMatchObject({ out: 'admin' });
  });
});

describe('size', () => {
  it('about 2.8 kB of session data fits in the 4096-byte cookie', async () => {
    const { browser } = await setup();
    const r = await browser.post(`/set?key=k&value="${'x'.repeat(2800)}"`);
    expect(r.status).toBe(200);
    const header = r.setCookies[0]!;
    expect(Buffer.byteLength(header)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(header)).toBeGreaterThan(3900);
  });

  it('a session too large for a cookie: 500 ERR_SESSION_COOKIE_TOO_LARGE, nothing of the handler’s answer sent', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=small&value=1');
    const before = sid(browser);
    const r = await browser.post(`/set?key=big&value="${'x'.repeat(3000)}"`);
    expect(r.status).toBe(500);
    const body = r.json<{ error: string; out?: unknown }>();
    expect(body.error).toBe('ERR_SESSION_COOKIE_TOO_LARGE');
    expect(body).not.toHaveProperty('out'); // the handler's own body was dropped
    expect(r.setCookies).toEqual([]);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    // The browser still holds the previous, intact session.
    expect(sid(browser)).toBe(before);
    expect((await browser.get('/get?key=small')).json()).toMatchObject({ out: 1, keys: ['small'] });
  });

  it('a too-large first write sets nothing either', async () => {
    const { browser } = await setup();
    const r = await browser.post(`/set?key=big&value="${'x'.repeat(4000)}"`);
    expect(r.status).toBe(500);
    expect(r.json()).toMatchObject({ error: 'ERR_SESSION_COOKIE_TOO_LARGE' });
    expect(r.setCookies).toEqual([]);
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
  });
});

describe('revocation', () => {
  async function withRevocations(options: Partial<SessionsOptions> = {}) {
    const backing = memoryStore({ sweepInterval: 0 });
    const revocationStore = counted(backing);
    const s = await setup({
      options,
      store: cookieStore({ revocations: revocationList(revocationStore) }),
    });
    return { ...s, revocationStore, backing };
  }

  it('revokeUserSessions kills every existing cookie of that user, and only that user', async () => {
    const { url, sessions, clock } = await withRevocations();
    const [phone, laptop, other] = [new Browser(url), new Browser(url), new Browser(url)];
    await phone.post('/login?user=dana');
    await laptop.post('/login?user=dana');
    await other.post('/login?user=erin');
    clock.now += 1000;
    expect(await sessions.revokeUserSessions('dana')).toBe(0); // unknown: nothing is listed
    for (const b of [phone, laptop]) {
      expect((await b.get('/get?key=x')).json()).toMatchObject({ userId: null, isNew: true });
    }
    expect((await other.get('/get?key=x')).json()).toMatchObject({ userId: 'erin' });
  });

  it('a session created after the revoke survives it, even within the same millisecond', async () => {
    const { browser, url, sessions, clock } = await withRevocations();
    await browser.post('/login?user=dana');
    // Created one millisecond before the revoke: dead. (The same millisecond counts as after:
    // a login racing the revoke is concurrent with it, and either order is legitimate.)
    clock.now += 1;
    await sessions.revokeUserSessions('dana');
    expect((await browser.get('/get?key=x')).json()).toMatchObject({ userId: null });
    await browser.post('/login?user=dana'); // same injected instant as the revoke
    expect((await browser.get('/get?key=x')).json()).toMatchObject({ userId: 'dana' });
    const later = new Browser(url);
    await later.post('/login?user=dana');
    expect((await later.get('/get?key=x')).json()).toMatchObject({ userId: 'dana' });
  });

  it('"sign out other devices": revoke, then regenerate the current session in the same request', async () => {
    const clock = { now: Date.now() };
    const sessions = createSessions({
      secrets: [SECRET],
      store: cookieStore({ revocations: revocationList(memoryStore({ sweepInterval: 0 })) }),
      now: () => clock.now,
    });
    const server = await listen(signOutOthersApp(sessions));
    closers.push(server.close);
    const [here, there] = [new Browser(server.url), new Browser(server.url)];
    await here.post('/login?user=dana');
    await there.post('/login?user=dana');
    clock.now += 1000;
    expect((await here.post('/signout-others')).json()).toMatchObject({ userId: 'dana' });
    expect((await here.get('/whoami')).json()).toMatchObject({ userId: 'dana' });
    expect((await there.get('/whoami')).json()).toMatchObject({ userId: null });
  });

  it('except by id cannot be honoured statelessly (a thief has the same id): refused, not ignored', async () => {
    const { sessions } = await withRevocations();
    await expect(sessions.revokeUserSessions('dana', { except: 'x' })).rejects.toMatchObject({
      code: 'ERR_SESSION_STATE',
    });
  });

  it('the list is one record per revoked user, keyed by a hash, unbound, gone after the absolute timeout', async () => {
    const { sessions, backing, clock } = await withRevocations({ absoluteTimeout: '24h' });
    await sessions.revokeUserSessions('dana');
    const at = clock.now;
    clock.now += MINUTE;
    await sessions.revokeUserSessions('dana'); // moves notBefore; still one record
    expect(backing.size).toBe(1);
    expect(await backing.listByUser('dana', clock.now)).toEqual([]);
    expect(await backing.purgeExpired(at + MINUTE + 24 * 60 * MINUTE - 1)).toBe(0);
    expect(await backing.purgeExpired(at + MINUTE + 24 * 60 * MINUTE)).toBe(1);
  });

  it('anonymous sessions never read the list; a signed-in request reads it once', async () => {
    const { browser, revocationStore } = await withRevocations();
    await browser.post('/set?key=a&value=1');
    revocationStore.reset();
    await browser.get('/get?key=a');
    expect(revocationStore.calls).toEqual({});
    await browser.post('/login?user=dana');
    revocationStore.reset();
    await browser.get('/get?key=a');
    expect(revocationStore.calls).toEqual({ get: 1 });
  });

  it('the list’s store down: 503 for signed-in requests, recovers by itself; healthCheck reports it', async () => {
    const { browser, revocationStore, sessions } = await withRevocations();
    await browser.post('/login?user=dana');
    await sessions.healthCheck();
    revocationStore.down = true;
    const r = await browser.get('/get?key=x');
    expect(r.status).toBe(503);
    expect(r.json()).toMatchObject({ error: 'ERR_SESSION_STORE_UNAVAILABLE' });
    await expect(sessions.healthCheck()).rejects.toBeDefined();
    revocationStore.down = false;
    expect((await browser.get('/get?key=x')).json()).toMatchObject({ userId: 'dana' });
  });

  it('without revocations, revokeUserSessions says what to configure', async () => {
    const { sessions } = await setup();
    await expect(sessions.revokeUserSessions('dana')).rejects.toMatchObject({
      code: 'ERR_SESSION_STATE',
    });
  });
});

describe('what needs a server store', () => {
  it('listSessions and revokeSession throw a clear SessionError', async () => {
    const { sessions } = await setup();
    await expect(sessions.listSessions('dana')).rejects.toMatchObject({
      name: 'SessionStateError',
      code: 'ERR_SESSION_STATE',
    });
    await expect(sessions.revokeSession('some-id')).rejects.toMatchObject({
      code: 'ERR_SESSION_STATE',
    });
  });

  it('maxSessionsPerUser is a configuration error with cookieStore', () => {
    expect(() =>
      createSessions({ secrets: [SECRET], store: cookieStore(), maxSessionsPerUser: 3 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }));
  });

  it('a revocations option that is not a list is a configuration error', () => {
    expect(() => cookieStore({ revocations: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
  });

  it('documented limitation: concurrent requests of one session — last write wins', async () => {
    const { browser } = await setup();
    await browser.post('/set?key=base&value=0');
    const shared = sid(browser)!;
    // Two tabs send the same cookie; each answer carries a whole new session.
    const left = await browser.request('/set?key=left&value=1', {
      method: 'POST',
      cookie: `sid=${shared}`,
    });
    const right = await browser.request('/set?key=right&value=2', {
      method: 'POST',
      cookie: `sid=${shared}`,
    });
    expect(left.status).toBe(200);
    expect(right.status).toBe(200);
    const keys = (await browser.get('/get?key=x')).json<{ keys: string[] }>().keys;
    expect(keys.sort()).toEqual(['base', 'right']); // "left" was lost: no server to merge into
  });
});

/** A route that signs out every other device of the current user, as docs/stores/cookie.md shows. */
function signOutOthersApp(sessions: Sessions) {
  return withSessions(sessions, async (req, res, load) => {
    const s = await load();
    const url = new URL(req.url ?? '/', 'http://test');
    if (req.method === 'POST' && url.pathname === '/login') s.login(url.searchParams.get('user')!);
    if (req.method === 'POST' && url.pathname === '/signout-others' && s.userId !== null) {
      // The current session is let through (and regenerated at commit); no other request is.
      await sessions.revokeUserSessions(s.userId, { except: s });
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ userId: s.userId }));
  });
}
