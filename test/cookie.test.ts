/**
 * The one-cookie reader against the `cookie` package (what Express and most of the ecosystem
 * use) as an oracle, over random headers; plus Set-Cookie output read back by `cookie`'s parser.
 */
import { parseCookie, parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CANDIDATES, readCookie, serializeCookie } from '../src/lib/cookie.ts';
import { fillRandom } from '../src/lib/random-pool.ts';
import {
  cachedVerifier,
  hashToken,
  importSecrets,
  newToken,
  signToken,
  verifyToken,
} from '../src/lib/token.ts';

const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
const valueArb = fc.stringMatching(/^[A-Za-z0-9_.\-~!*'()]{0,40}$/);

describe('readCookie', () => {
  it('agrees with the cookie package on the first value of a name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(nameArb, valueArb), { maxLength: 12 }),
        fc.constantFrom('; ', ';', ';  '),
        nameArb,
        (pairs, sep, probe) => {
          const header = pairs.map(([k, v]) => `${k}=${v}`).join(sep);
          const ours = readCookie(header, probe)[0];
          const theirs = parseCookie(header)[probe];
          // `cookie` keeps the first occurrence of a name, as browsers order most specific first.
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns every same-named value in order, at most MAX_CANDIDATES (past any browser cookie limit), and strips quotes', () => {
    expect(readCookie('a=1; sid=x; b=2; sid="y"; sid=z', 'sid')).toEqual(['x', 'y', 'z']);
    const many = Array.from({ length: 500 }, (_, i) => `sid=${i}`).join('; ');
    expect(readCookie(many, 'sid')).toHaveLength(MAX_CANDIDATES);
    expect(MAX_CANDIDATES).toBeGreaterThan(180); // Chromium keeps at most 180 cookies per domain
    expect(readCookie(many, 'sid').at(-1)).toBe(String(MAX_CANDIDATES - 1));
    expect(readCookie('sidx=1; xsid=2; sid', 'sid')).toEqual([]);
    expect(readCookie(undefined, 'sid')).toEqual([]);
  });

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (header) => {
        expect(Array.isArray(readCookie(header, 'sid'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('serializeCookie', () => {
  it('writes a header the cookie package reads back with every attribute', () => {
    const header = serializeCookie('sid', 'abc.def', {
      path: '/app',
      domain: 'example.com',
      maxAge: 90_500,
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      partitioned: true,
    });
    const parsed = parseSetCookie(header);
    expect(parsed).toMatchObject({
      name: 'sid',
      value: 'abc.def',
      path: '/app',
      domain: 'example.com',
      maxAge: 90,
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      partitioned: true,
    });
  });
});

describe('tokens', () => {
  const keys = importSecrets(['k'.repeat(32), 'o'.repeat(32)]);

  it('come from a pool that never hands out the same bytes twice, across its refills', () => {
    // 20 000 tokens and nonces interleaved: 760 KB, the 4 KiB pool refilled ~190 times.
    const seen = new Set<string>();
    const nonce = Buffer.alloc(12);
    for (let i = 0; i < 10_000; i++) {
      seen.add(newToken());
      seen.add(fillRandom(nonce, 0, 12).toString('hex'));
    }
    expect(seen.size).toBe(20_000);
    // Written where asked, nowhere else.
    const target = Buffer.alloc(20, 0xaa);
    fillRandom(target, 4, 12);
    expect([...target.subarray(0, 4), ...target.subarray(16)]).toEqual(Array(8).fill(0xaa));
    expect(() => fillRandom(Buffer.alloc(5000), 0, 5000)).toThrow(RangeError);
  });

  it('are 32 random bytes, signed, and verify with the secret that signed them', () => {
    const token = newToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(verifyToken(signToken(token, keys), keys)).toEqual({
      token,
      secretIndex: 0,
      nonce: false,
    });
    expect(verifyToken(signToken(token, keys.slice(1)), keys)).toEqual({
      token,
      secretIndex: 1,
      nonce: false,
    });
    // A CSRF binding is signed under its own label: it verifies as a nonce, never as a session.
    const nonce = signToken(token, keys, true);
    expect(nonce).not.toBe(signToken(token, keys));
    expect(verifyToken(nonce, keys)).toEqual({ token, secretIndex: 0, nonce: true });
    expect(verifyToken(signToken(token, keys), keys.slice(1))).toBeNull();
    expect(hashToken(token)).not.toBe(token);
  });

  it('no mutation of a signed value verifies (every position, every base64url character)', () => {
    const value = signToken(newToken(), keys);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    let tried = 0;
    for (let i = 0; i < value.length; i++) {
      for (const ch of alphabet) {
        if (ch === value[i]) continue;
        const forged = value.slice(0, i) + ch + value.slice(i + 1);
        expect(verifyToken(forged, keys), `position ${i} -> ${ch}`).toBeNull();
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(5000);
  });

  it('random strings never verify and never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (value) => {
        expect(verifyToken(value, keys)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it('the cached verifier answers exactly as the verifier does, and stays bounded', () => {
    const verify = cachedVerifier(keys, 2);
    const values = [newToken(), newToken(), newToken()].map((t) => signToken(t, keys));
    for (const value of [...values, ...values]) {
      const token = value.split('.')[0]!;
      expect(verify(value)).toEqual({ token, key: hashToken(token), secretIndex: 0, nonce: false });
    }
    const forged = values[0]!.slice(0, -3) + 'AAA';
    expect(verify(forged)).toBeNull();
    expect(verify(forged)).toBeNull();
    const other = cachedVerifier(importSecrets(['z'.repeat(32)]));
    expect(other(values[0]!)).toBeNull(); // a cache belongs to one set of secrets
  });
});
