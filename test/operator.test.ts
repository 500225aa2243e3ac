/**
 * What an operator sees (issue 12): an outage reported once and its recovery once, a Secure
 * cookie sent to a plain-HTTP origin, why cookies are refused; and per-session lifetimes.
 */
import { describe, expect, it } from 'vitest';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { testApp } from './support/app.ts';
import { Browser, listen } from './support/http.ts';
import { counted } from './support/stores.ts';

const SECRET = 'k3J9x_q2LmZ8vR4tY7wB1nC6pD0sF5hG';
const MINUTE = 60_000;

function recorder() {
  const lines: Array<[level: string, message: string]> = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return {
    lines,
    logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') },
  };
}

describe('store outages in the log', () => {
  it('the first failure of an outage and the recovery are logged once each, through a real server', async () => {
    const store = counted(memoryStore({ sweepInterval: 0 }));
    const { lines, logger } = recorder();
    const sessions = createSessions({ secrets: [SECRET], store, logger });
    const server = await listen(testApp(sessions as never));
    try {
      const b = new Browser(server.url);
      await b.post('/set?key=a&value=1');
      store.down = true;
      for (let i = 0; i < 5; i++) expect((await b.get('/get?key=a')).status).toBe(503);
      store.down = false;
      for (let i = 0; i < 3; i++) expect((await b.get('/get?key=a')).status).toBe(200);
      expect(lines.map(([level]) => level)).toEqual(['error', 'info']);
      expect(lines[0]![1]).toMatch(/session store failed during get/);
      expect(lines[1]![1]).toMatch(/answers again/);
      store.down = true;
      await b.get('/get?key=a');
      expect(lines.map(([level]) => level)).toEqual(['error', 'info', 'error']); // a new outage
    } finally {
      await server.close();
    }
  });
});

describe('a Secure cookie on plain HTTP', () => {
  it('warns once, outside production, for a non-loopback host; never for localhost', async () => {
    const { lines, logger } = recorder();
    const sessions = createSessions({ secrets: [SECRET], store: memoryStore(), logger });
    const write = async (info: { secure?: boolean; host?: string }) => {
      const rs = sessions.request(info);
      (await rs.session()).set('a', 1);
      await rs.commit();
    };
    await write({ secure: false, host: 'localhost:3000' });
    await write({ secure: false, host: '127.0.0.1:3000' });
    await write({ secure: true, host: 'example.com' });
    expect(lines).toEqual([]);
    await write({ secure: false, host: '192.168.1.20:3000' });
    await write({ secure: false, host: 'app.internal' });
    expect(lines).toHaveLength(1);
    expect(lines[0]![1]).toMatch(
      /Secure session cookie was sent to http:\/\/192\.168\.1\.20:3000.*secure: 'auto'/,
    );
  });
});

describe('debug: why a cookie was refused', () => {
  it('logs the reason (never the value) with debug: true; nothing without it', async () => {
    const quiet = recorder();
    const loud = recorder();
    const cookie = `sid=${'A'.repeat(43)}.${'B'.repeat(43)}; sid=junk`;
    for (const [r, debug] of [
      [quiet, false],
      [loud, true],
    ] as const) {
      const sessions = createSessions({
        secrets: [SECRET],
        store: memoryStore(),
        logger: r.logger,
        debug,
      });
      await sessions.request({ cookie }).session();
    }
    expect(quiet.lines).toEqual([]);
    expect(loud.lines).toEqual([
      ['debug', 'tessera: a session cookie was refused (forged)'],
      ['debug', 'tessera: a session cookie was refused (malformed)'],
    ]);
  });
});

describe('per-session lifetime at login', () => {
  async function setup() {
    const clock = { now: Date.now() };
    const sessions = createSessions({
      secrets: [SECRET],
      store: memoryStore({ sweepInterval: 0 }),
      now: () => clock.now,
      idleTimeout: '30m',
      absoluteTimeout: '30d',
      logger: false,
    });
    const login = async (options: object) => {
      const rs = sessions.request({ secure: true });
      (await rs.session()).login('u', options);
      return (await rs.commit()).headers[0]![1];
    };
    const read = async (setCookie: string) =>
      sessions.request({ cookie: setCookie.split(';')[0], secure: true }).session();
    return { clock, login, read };
  }

  it('"remember me": a long idle timeout for this session only, kept in the record', async () => {
    const { clock, login, read } = await setup();
    const remembered = await login({ idleTimeout: '7d' });
    const plain = await login({});
    expect(remembered).toMatch(/Max-Age=604800;/);
    expect(plain).toMatch(/Max-Age=1800;/);
    clock.now += 3 * 24 * 60 * MINUTE;
    expect((await read(remembered)).userId).toBe('u');
    expect((await read(plain)).userId).toBeNull();
  });

  it('a shared computer: a browser-session cookie and a short idle timeout', async () => {
    const { clock, login, read } = await setup();
    const shared = await login({ persistent: false, idleTimeout: '5m' });
    expect(shared).not.toMatch(/Max-Age/);
    clock.now += 6 * MINUTE;
    expect((await read(shared)).userId).toBeNull();
  });

  it('beyond the global absolute bound is a TypeError at the call', async () => {
    const { login } = await setup();
    await expect(login({ idleTimeout: '31d' })).rejects.toBeInstanceOf(TypeError);
    await expect(login({ absoluteTimeout: '1y' })).rejects.toBeInstanceOf(TypeError);
  });
});
