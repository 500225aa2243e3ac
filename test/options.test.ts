import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/lib/duration.ts';
import { defaults } from '../src/options.ts';
import { createSessions } from '../src/sessions.ts';
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
