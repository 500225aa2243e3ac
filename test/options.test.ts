import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../src/lib/duration.ts';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { defaults } from '../src/options.ts';
import { memoryStore } from '../src/stores/memory.ts';

const secrets = ['s'.repeat(32)];
const store = memoryStore({ sweepInterval: 0 });

function configError(options: Record<string, unknown>): Error & { code?: string } {
  try {
    createSessions({ secrets, store, ...options } as never);
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a configuration error');
}

describe('configuration errors throw at construction, with the fix in the message', () => {
  it.each([
    ['no secrets', { secrets: [] }, /generate one with/],
    ['a short secret', { secrets: ['short'] }, /at least 32 bytes; generate one with: node -p/],
    ['a secret that is not a string', { secrets: [42] }, /must be a string or a Uint8Array/],
    ['no store', { store: undefined }, /store is required: memoryStore\(\)/],
    ['a bad duration', { idleTimeout: '30 minutes' }, /like "30m"/],
    [
      'absolute shorter than idle',
      { idleTimeout: '1h', absoluteTimeout: '30m' },
      /must be at least idleTimeout/,
    ],
    [
      'touchAfter not below idle',
      { idleTimeout: '10m', touchAfter: '10m' },
      /shorter than idleTimeout/,
    ],
    ['a bad cookie name', { cookie: { name: 'my sid' } }, /not a valid cookie name/],
    ['__Host- with a domain', { cookie: { name: '__Host-sid', domain: 'example.com' } }, /__Host-/],
    ['__Host- with a path', { cookie: { name: '__Host-sid', path: '/app' } }, /__Host-/],
    ['__Host- with secure auto', { cookie: { name: '__Host-sid', secure: 'auto' } }, /__Host-/],
    ['__Secure- without secure', { cookie: { name: '__Secure-sid', secure: false } }, /__Secure-/],
    [
      'SameSite=None without Secure',
      { cookie: { sameSite: 'none', secure: false } },
      /requires secure/,
    ],
    [
      'partitioned without Secure',
      { cookie: { partitioned: true, secure: false } },
      /requires secure/,
    ],
    ['a path without a slash', { cookie: { path: 'app' } }, /must start with "\/"/],
    ['a bad maxSessionsPerUser', { maxSessionsPerUser: 0 }, /positive integer/],
  ])('%s', (_name, options, message) => {
    const err = configError(options);
    expect(err.code).toBe('ERR_SESSION_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('accepts Uint8Array secrets of 32 bytes', () => {
    expect(() => createSessions({ secrets: [new Uint8Array(32).fill(7)], store })).not.toThrow();
  });
});

describe('defaults', () => {
  it('are frozen and secure', () => {
    expect(Object.isFrozen(defaults)).toBe(true);
    expect(Object.isFrozen(defaults.cookie)).toBe(true);
    expect(defaults.cookie).toMatchObject({ secure: true, sameSite: 'lax', path: '/' });
    const sessions = createSessions({ secrets, store });
    expect(Object.isFrozen(sessions.options)).toBe(true);
    expect(sessions.options.idleTimeout).toBe(2 * 3_600_000);
    expect(sessions.options.absoluteTimeout).toBe(24 * 3_600_000);
    expect(sessions.options.touchAfter).toBe(60_000);
  });

  it('touchAfter defaults to a quarter of a short idle timeout', () => {
    expect(createSessions({ secrets, store, idleTimeout: '2s' }).options.touchAfter).toBe(500);
  });
});

describe('durations', () => {
  it.each([
    [1500, 1500],
    ['500ms', 500],
    ['2s', 2000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input, 'x')).toBe(ms);
  });

  it.each([['-1'], ['abc'], [''], ['5 parsecs'], [Number.NaN], [-5]])('%s is refused', (input) => {
    expect(() => parseDuration(input as never, 'idleTimeout')).toThrow(/idleTimeout must be/);
  });
});

describe('values that JSON cannot carry are refused at the call', () => {
  it.each([
    ['a function', () => 1],
    ['a BigInt', 10n],
    ['a Date', new Date()],
    ['a Map', new Map()],
    ['NaN', Number.NaN],
    ['undefined in an object', { a: undefined }],
    ['undefined in a list', [1, undefined]],
    ['a symbol', Symbol('x')],
  ])('%s', async (_name, value) => {
    const s = await createSessions({ secrets, store }).request({}).session();
    expect(() => s.set('x', value)).toThrow(TypeError);
    expect(s.has('x')).toBe(false);
  });

  it('a cycle', async () => {
    const s = await createSessions({ secrets, store }).request({}).session();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => s.set('x', cyclic)).toThrow(/circular/);
  });

  it('reserved keys', async () => {
    const s = await createSessions({ secrets, store }).request({}).session();
    expect(() => s.set('$flash', 1)).toThrow(/reserved/);
  });
});

describe('options other libraries take are refused with the tessera equivalent', () => {
  it.each([
    [{ secret: 'x' }, /unknown option secret: use secrets: \[secret\]/],
    [{ resave: false }, /unknown option resave: .*only what a request changed/],
    [{ saveUninitialized: false }, /unknown option saveUninitialized: .*only once it holds data/],
    [{ rolling: true }, /unknown option rolling: .*slides by itself/],
    [{ name: 'connect.sid' }, /unknown option name: use cookie: \{ name \}/],
    [{ cookie: { maxAge: 1000 } }, /unknown option cookie\.maxAge: use idleTimeout/],
    [{ cookie: { httpOnly: false } }, /unknown option cookie\.httpOnly: .*always HttpOnly/],
    [{ idleTimout: '1h' }, /unknown option idleTimout: the options are: secrets, store/],
  ])('%o', (options, message) => {
    const err = configError(options);
    expect(err.code).toBe('ERR_SESSION_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('an undefined secret (an unset environment variable) says so', () => {
    const err = configError({ secrets: [process.env['TESSERA_NO_SUCH_VARIABLE']] });
    expect(err.code).toBe('ERR_SESSION_CONFIG');
    expect(err.message).toMatch(/secrets is undefined: is the environment variable .* set\?/);
    expect(configError({ secrets: undefined }).message).toMatch(/secrets is undefined/);
  });
});

describe('weak secrets', () => {
  const env = process.env['NODE_ENV'];
  afterEach(() => {
    process.env['NODE_ENV'] = env;
  });

  it.each([
    ['one character repeated', 'a'.repeat(32), /one character repeated/],
    ['few distinct bytes', 'abcabcabcabcabcabcabcabcabcabcab', /only 3 distinct bytes/],
    [
      "the README's sample",
      'development-only-secret-0123456789abcdef',
      /sample secret from the docs/,
    ],
  ])('%s: refused in production with how to make one', (_name, secret, reason) => {
    process.env['NODE_ENV'] = 'production';
    const err = configError({ secrets: [secret] });
    expect(err.code).toBe('ERR_SESSION_CONFIG');
    expect(err.message).toMatch(reason);
    expect(err.message).toMatch(/generate one with: node -p/);
  });

  it('outside production a weak secret is a warning, once, through the logger', () => {
    process.env['NODE_ENV'] = 'development';
    const warnings: string[] = [];
    const logger = { error() {}, info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
    createSessions({ secrets: ['a'.repeat(32)], store, logger });
    expect(warnings).toEqual([
      expect.stringMatching(/secrets\[0\] is weak: it is one character repeated/),
    ]);
  });

  it('a random secret passes in production', () => {
    process.env['NODE_ENV'] = 'production';
    expect(() =>
      createSessions({ secrets: [randomBytes(32).toString('base64url')], store }),
    ).not.toThrow();
    expect(() =>
      createSessions({ secrets: [randomBytes(32).toString('hex')], store }),
    ).not.toThrow();
  });
});

describe('cookie prefixes are checked case-insensitively (as browsers match them)', () => {
  it.each([
    [{ name: '__host-sid', secure: false }],
    [{ name: '__HOST-sid', path: '/app' }],
    [{ name: '__secure-sid', secure: false }],
  ])('%o', (cookie) => {
    expect(configError({ cookie }).message).toMatch(/__Host-|__Secure-/);
  });
});

describe('sessions.options holds nothing secret', () => {
  it('no secrets, keys or store; frozen', () => {
    const sessions = createSessions({ secrets, store });
    const seen = JSON.stringify(sessions.options);
    expect(seen).not.toContain(secrets[0]);
    for (const field of ['secrets', 'keys', 'store', 'logger', 'now'])
      expect(Object.hasOwn(sessions.options, field)).toBe(false);
    expect(Object.isFrozen(sessions.options)).toBe(true);
    expect(Object.isFrozen(sessions.options.cookie)).toBe(true);
    expect(sessions.options.cookie.name).toBe('sid');
  });
});
