/**
 * `RequestSession.commitIfIdle()`: the synchronous commit adapters use so that a plain read's
 * response goes out without waiting for the event loop. It must say "nothing to do" only when a
 * full commit would indeed write nothing and add no header.
 */
import { describe, expect, it } from 'vitest';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { counted, writes } from './support/stores.ts';

async function setup(secrets = ['i'.repeat(32)]) {
  const clock = { now: 1_000_000 };
  const store = counted(memoryStore({ sweepInterval: 0 }));
  const sessions = createSessions<{ a: number; list: string[] }>({
    secrets,
    store,
    now: () => clock.now,
  });
  const first = sessions.request({});
  (await first.session()).set('a', 1);
  const { headers } = await first.commit();
  const cookie = headers.find(([name]) => name === 'set-cookie')![1].split(';')[0]!;
  store.reset();
  return { clock, store, sessions, cookie };
}

describe('commitIfIdle', () => {
  it('a plain read commits at once with no header, and the session is closed after it', async () => {
    const { sessions, cookie, store } = await setup();
    const rs = sessions.request({ cookie });
    expect((await rs.session()).get('a')).toBe(1);
    expect(rs.commitIfIdle()).toEqual({ headers: [] });
    expect(await rs.commit()).toEqual({ headers: [] });
    // As after commit(): the session cannot be asked for again once its response is committed.
    await expect(rs.session()).rejects.toMatchObject({ code: 'ERR_SESSION_STATE' });
    expect(writes(store)).toBe(0);
  });

  it('a request that never asked for its session is idle', () => {
    return setup().then(({ sessions, cookie }) => {
      expect(sessions.request({ cookie }).commitIfIdle()).toEqual({ headers: [] });
    });
  });

  it('defers to commit() whenever something must be written or sent', async () => {
    const { sessions, cookie, clock, store } = await setup();
    const cases: Array<[string, (s: Awaited<ReturnType<typeof rs.session>>) => unknown]> = [
      ['set', (s) => s.set('a', 2)],
      ['push', (s) => s.push('list', 'x')],
      ['regenerate', (s) => s.regenerate()],
      ['destroy', (s) => s.destroy()],
    ];
    let rs = sessions.request({ cookie });
    for (const [name, change] of cases) {
      rs = sessions.request({ cookie });
      change(await rs.session());
      expect(rs.commitIfIdle(), name).toBeUndefined();
      if (name !== 'destroy' && name !== 'regenerate') await rs.commit();
    }
    // A touch that is due.
    clock.now += 10 * 60_000;
    store.reset();
    rs = sessions.request({ cookie });
    await rs.session();
    expect(rs.commitIfIdle()).toBeUndefined();
    await rs.commit();
    expect(store.calls['touch']).toBe(1);
    // A fresh session with data.
    rs = sessions.request({});
    (await rs.session()).set('a', 3);
    expect(rs.commitIfIdle()).toBeUndefined();
  });

  it('a load still in flight is not idle', async () => {
    const { sessions, cookie } = await setup();
    const rs = sessions.request({ cookie });
    const loading = rs.session();
    expect(rs.commitIfIdle()).toBeUndefined();
    await loading;
  });

  it('a cookie signed with an older secret is re-issued, so not idle', async () => {
    const old = 'o'.repeat(32);
    const { cookie, store } = await setup([old]);
    const rotated = createSessions<{ a: number }>({
      secrets: ['n'.repeat(32), old],
      store,
      now: () => 1_000_000,
    });
    const rs = rotated.request({ cookie });
    expect((await rs.session()).get('a')).toBe(1);
    expect(rs.commitIfIdle()).toBeUndefined();
    const { headers } = await rs.commit();
    expect(headers.some(([name]) => name === 'set-cookie')).toBe(true);
  });
});
