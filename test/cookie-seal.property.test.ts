/**
 * The sealed-cookie format under attack: whatever a client sends instead of a value we sealed —
 * random text, random bytes, or a real value with one character, bit or chunk changed — opens to
 * `null` and never throws. A value we sealed opens to exactly what was sealed.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSealCodec, deriveSealKeys } from '../src/lib/seal.ts';
import type { JsonValue, SealedPayload, SessionMeta } from '../src/store.ts';

const SECRET = Buffer.from('s'.repeat(32));
const OLD = Buffer.from('o'.repeat(32));
const NAME = 'sid';
const codec = createSealCodec([SECRET]);
const RUNS = { numRuns: 500 };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const PREFIX = 'v1.';

const id = fc
  .array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 64 })
  .map((cs) => cs.join(''));
const time = fc.integer({ min: 0, max: 4_102_444_800_000 });
const meta: fc.Arbitrary<SessionMeta> = fc.record(
  { userAgent: fc.string({ maxLength: 40 }), ip: fc.string({ maxLength: 15 }) },
  { requiredKeys: [], noNullPrototype: true },
);
// Session data as the manager hands it over: JSON-faithful (JSON has no -0, it becomes 0).
const data = fc
  .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((d) => JSON.parse(JSON.stringify(d)) as Record<string, JsonValue>);
const payload: fc.Arbitrary<SealedPayload> = fc
  .record(
    {
      id,
      userId: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: null }),
      createdAt: time,
      lastSeenAt: time,
      expiresAt: time,
      absoluteExpiresAt: time,
      data,
      meta,
    },
    { noNullPrototype: true },
  )
  .map(({ id, ...record }) => ({ id, record }));

/** A real sealed value for a payload, without the `v1.` prefix, and its bytes. */
const sealedValue = payload.map((p) => {
  const value = codec.seal(p, NAME);
  return {
    value,
    body: value.slice(PREFIX.length),
    bytes: Buffer.from(value.slice(3), 'base64url'),
  };
});

/** Plain checks rather than `expect` here: the exhaustive cases call this thousands of times. */
function mustNotOpen(value: string, name = NAME, c = codec): void {
  let opened: unknown;
  try {
    opened = c.open(value, name);
  } catch (err) {
    throw new Error(`open threw on ${JSON.stringify(value)}`, { cause: err });
  }
  if (opened !== null) throw new Error(`opened a value it must refuse: ${JSON.stringify(value)}`);
}

/** Seal arbitrary plaintext with the real key and format: authentic, but not necessarily a session. */
function sealRaw(plaintext: string, name = NAME): string {
  const [key] = deriveSealKeys([SECRET]);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key!, nonce, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`tessera/cookie-seal/v1\0${name}`));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64url');
}

describe('round trip', () => {
  it('a sealed value opens to exactly the sealed payload, not stale', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const opened = codec.open(codec.seal(p, NAME), NAME);
        expect(opened).toStrictEqual({ payload: p, stale: false });
      }),
      RUNS,
    );
  });

  it('sealing twice gives two different values (a fresh nonce each time)', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const a = codec.seal(p, NAME);
        const b = codec.seal(p, NAME);
        expect(a).not.toBe(b);
        expect(a.slice(3, 19)).not.toBe(b.slice(3, 19));
      }),
      { numRuns: 100 },
    );
  });

  it('the value is versioned base64url and never shows the data in clear', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const value = codec.seal(p, NAME);
        expect(value).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
        if (p.id.length >= 12) expect(value).not.toContain(p.id);
      }),
      { numRuns: 100 },
    );
  });

  it('the cookie name is bound: the same value under another name does not open', () => {
    fc.assert(
      fc.property(
        sealedValue,
        fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n !== NAME),
        ({ value }, other) => mustNotOpen(value, other),
      ),
      RUNS,
    );
  });

  it('rotation: a value sealed with an old secret opens with [new, old] as stale, not with [new]', () => {
    const old = createSealCodec([OLD]);
    const rotated = createSealCodec([SECRET, OLD]);
    fc.assert(
      fc.property(payload, (p) => {
        const value = old.seal(p, NAME);
        expect(rotated.open(value, NAME)).toStrictEqual({ payload: p, stale: true });
        expect(rotated.open(rotated.seal(p, NAME), NAME)).toStrictEqual({
          payload: p,
          stale: false,
        });
        expect(codec.open(rotated.seal(p, NAME), NAME)).toStrictEqual({
          payload: p,
          stale: false,
        });
        mustNotOpen(value, NAME, codec);
      }),
      { numRuns: 200 },
    );
  });
});

describe('anything else never opens and never throws', () => {
  it('random strings, with and without the version prefix', () => {
    // Binary-unit strings are slow to generate (about 1 ms each): fewer, shorter runs here.
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (s, prefixed) =>
        mustNotOpen(prefixed ? PREFIX + s : s),
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes, base64url-encoded, with and without the version prefix', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, prefixed) => {
        const body = Buffer.from(bytes).toString('base64url');
        mustNotOpen(prefixed ? PREFIX + body : body);
      }),
      RUNS,
    );
  });

  it('a value replaced at one character position', () => {
    const replacement = fc.constantFrom(...ALPHABET, '=', '.', '+', '/', ' ', '%', '"', 'é', '\0');
    fc.assert(
      fc.property(sealedValue, fc.nat(), replacement, ({ value }, at, char) => {
        const i = at % value.length;
        fc.pre(value[i] !== char);
        mustNotOpen(value.slice(0, i) + char + value.slice(i + 1));
      }),
      RUNS,
    );
  });

  it('a value with one byte of nonce, ciphertext or tag changed', () => {
    fc.assert(
      fc.property(
        sealedValue,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        ({ bytes }, at, mask) => {
          const changed = Buffer.from(bytes);
          changed[at % changed.length]! ^= mask;
          mustNotOpen(PREFIX + changed.toString('base64url'));
        },
      ),
      RUNS,
    );
  });

  it('a truncated value', () => {
    fc.assert(
      fc.property(sealedValue, fc.nat(), ({ value }, at) => {
        mustNotOpen(value.slice(0, at % value.length));
      }),
      RUNS,
    );
  });

  it('an extended value (characters or bytes appended, or prepended)', () => {
    fc.assert(
      fc.property(
        sealedValue,
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        ({ value, bytes }, text, extra) => {
          mustNotOpen(value + text);
          mustNotOpen(text + value);
          mustNotOpen(PREFIX + Buffer.concat([bytes, extra]).toString('base64url'));
          mustNotOpen(PREFIX + Buffer.concat([extra, bytes]).toString('base64url'));
        },
      ),
      RUNS,
    );
  });

  it('a value with its chunks reordered (as text and as bytes)', () => {
    const cuts = fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(sealedValue, cuts, fc.nat(), ({ body, bytes }, rawCuts, seed) => {
        for (const [whole, join] of [
          [body, (parts: string[]) => PREFIX + parts.join('')],
          [
            bytes.toString('latin1'),
            (parts: string[]) =>
              PREFIX + Buffer.from(parts.join(''), 'latin1').toString('base64url'),
          ],
        ] as const) {
          const points = [...new Set(rawCuts.map((c) => 1 + (c % (whole.length - 1))))].sort(
            (a, b) => a - b,
          );
          const parts: string[] = [];
          let from = 0;
          for (const p of points) {
            parts.push(whole.slice(from, p));
            from = p;
          }
          parts.push(whole.slice(from));
          // Rotate by a seed-chosen amount, then swap the first two: never the identity order.
          const k = 1 + (seed % (parts.length - 1 || 1));
          const moved = [...parts.slice(k), ...parts.slice(0, k)];
          const reordered = join(moved);
          fc.pre(reordered !== join(parts));
          mustNotOpen(reordered);
        }
      }),
      RUNS,
    );
  });
});

describe('one real value, exhaustively', () => {
  const p: SealedPayload = {
    id: 'A'.repeat(43),
    record: {
      data: { cart: ['tea', 'scone'], lang: 'fr' },
      userId: 'dana',
      createdAt: 1_700_000_000_000,
      lastSeenAt: 1_700_000_060_000,
      expiresAt: 1_700_001_860_000,
      absoluteExpiresAt: 1_700_086_400_000,
      meta: {},
    },
  };
  const value = codec.seal(p, NAME);

  it('opens as sealed', () => {
    expect(codec.open(value, NAME)).toStrictEqual({ payload: p, stale: false });
  });

  it('no prefix of it opens', () => {
    for (let n = 0; n < value.length; n++) mustNotOpen(value.slice(0, n));
  });

  it('no single-character substitution from the base64url alphabet opens', () => {
    for (let i = 0; i < value.length; i++) {
      for (const char of ALPHABET) {
        if (char !== value[i]) mustNotOpen(value.slice(0, i) + char + value.slice(i + 1));
      }
    }
  });

  it('no single-bit flip of its bytes opens', () => {
    const bytes = Buffer.from(value.slice(3), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= 1 << bit;
        mustNotOpen(PREFIX + changed.toString('base64url'));
      }
    }
  });

  it('padding, another version or a non-canonical last character does not open', () => {
    mustNotOpen(value + '=');
    mustNotOpen(value + '==');
    mustNotOpen('v2.' + value.slice(3));
    mustNotOpen('V1.' + value.slice(3));
    mustNotOpen(value.slice(3));
    // The last character of an unpadded base64 string carries unused bits; Node ignores them.
    const body = value.slice(3);
    const unused = body.length % 4 === 2 ? 0x0f : body.length % 4 === 3 ? 0x03 : 0;
    if (unused !== 0) {
      const last = ALPHABET.indexOf(body.at(-1)!);
      const twin = `${PREFIX}${body.slice(0, -1)}${ALPHABET[last | 1]}`;
      expect(Buffer.from(twin.slice(3), 'base64url')).toEqual(Buffer.from(body, 'base64url'));
      mustNotOpen(twin);
    }
  });
});

describe('authentic but malformed content never becomes a session', () => {
  const good = [
    'A'.repeat(43),
    'dana',
    1_700_000_000_000,
    1_700_000_000_000,
    1_700_001_800_000,
    1_700_086_400_000,
    { a: 1 },
  ];
  const withField = (i: number, v: unknown) => good.map((x, j) => (j === i ? v : x));

  it('the well-formed control opens', () => {
    expect(codec.open(sealRaw(JSON.stringify(good)), NAME)?.payload.record.data).toEqual({ a: 1 });
    expect(
      codec.open(sealRaw(JSON.stringify([...good, { u: 'UA', i: '::1' }])), NAME)?.payload.record
        .meta,
    ).toEqual({ userAgent: 'UA', ip: '::1' });
  });

  it.each([
    ['not JSON', '["A", nope'],
    ['an object', JSON.stringify({ id: 'A'.repeat(43) })],
    ['too few fields', JSON.stringify(good.slice(0, 6))],
    ['too many fields', JSON.stringify([...good, { u: 'x' }, 1])],
    ['id not a string', JSON.stringify(withField(0, 42))],
    ['id not base64url', JSON.stringify(withField(0, 'a b'))],
    ['id empty', JSON.stringify(withField(0, ''))],
    ['userId a number', JSON.stringify(withField(1, 7))],
    ['userId empty', JSON.stringify(withField(1, ''))],
    ['a time as text', JSON.stringify(withField(2, '1700000000000'))],
    ['a time overflowing to Infinity', JSON.stringify(good).replace('1700001800000', '1e999')],
    ['a time missing', JSON.stringify(withField(4, null))],
    ['data an array', JSON.stringify(withField(6, [1]))],
    ['data null', JSON.stringify(withField(6, null))],
    ['data a string', JSON.stringify(withField(6, 'x'))],
    ['meta empty', JSON.stringify([...good, {}])],
    ['meta with an unknown field', JSON.stringify([...good, { u: 'x', z: 'y' }])],
    ['meta field not a string', JSON.stringify([...good, { i: 1 }])],
    ['meta an array', JSON.stringify([...good, ['x']])],
  ])('%s → null', (_name, plaintext) => {
    mustNotOpen(sealRaw(plaintext));
  });

  it('random authentic JSON → null, never a partial session', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => mustNotOpen(sealRaw(JSON.stringify(v)))),
      RUNS,
    );
  });

  it('seal refuses a payload that open would refuse', () => {
    const base = {
      id: 'A'.repeat(43),
      record: { ...codec.open(sealRaw(JSON.stringify(good)), NAME)!.payload.record },
    };
    for (const bad of [
      { ...base, id: 'not base64url!' },
      { ...base, record: { ...base.record, createdAt: Number.NaN } },
      { ...base, record: { ...base.record, data: [] } },
      { ...base, record: { ...base.record, userId: '' } },
      { ...base, record: { ...base.record, meta: { other: 'x' } } },
    ]) {
      expect(() => codec.seal(bad as unknown as SealedPayload, NAME)).toThrow(TypeError);
    }
  });
});
