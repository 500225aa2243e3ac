import { describe, expect, it } from 'vitest';
import { withOpenCache } from '../src/lib/open-cache.ts';
import type { SealCodec, SealedPayload } from '../src/store.ts';
import { cookieStore } from '../src/stores/cookie.ts';

const secret = new Uint8Array(32).fill(3);
const old = new Uint8Array(32).fill(9);
const payload = (): SealedPayload => ({
  id: 'id-1',
  record: {
    data: { cart: ['a'], n: 1 },
    userId: null,
    createdAt: 1,
    lastSeenAt: 2,
    expiresAt: 3,
    absoluteExpiresAt: 4,
    meta: {},
  },
});

function counting(codec: SealCodec) {
  const calls = { open: 0 };
  return {
    calls,
    codec: {
      seal: codec.seal,
      open: (v: string, n: string) => {
        calls.open++;
        return codec.open(v, n);
      },
    } satisfies SealCodec,
  };
}

describe('withOpenCache', () => {
  it('opens a value once, then hands out equal but independent copies', () => {
    const { codec, calls } = counting(cookieStore().bind([secret]));
    const cached = withOpenCache(codec);
    const value = codec.seal(payload(), 'sid');
    const first = cached.open(value, 'sid')!;
    first.payload.record.data['cart'] = ['changed'];
    const second = cached.open(value, 'sid')!;
    expect(second.payload).toEqual(payload());
    expect(second.payload.record).not.toBe(first.payload.record);
    expect(calls.open).toBe(1);
  });

  it('never caches what did not open, and keys by cookie name too', () => {
    const { codec, calls } = counting(cookieStore().bind([secret]));
    const cached = withOpenCache(codec);
    const value = codec.seal(payload(), 'sid');
    expect(cached.open(value.slice(0, -2), 'sid')).toBeNull();
    expect(cached.open(value.slice(0, -2), 'sid')).toBeNull();
    expect(cached.open(value, 'other')).toBeNull();
    expect(calls.open).toBe(3);
  });

  it('keeps the stale flag of a value sealed with an older secret', () => {
    const sealedWithOld = cookieStore().bind([old]).seal(payload(), 'sid');
    const cached = withOpenCache(cookieStore().bind([secret, old]));
    expect(cached.open(sealedWithOld, 'sid')?.stale).toBe(true);
    expect(cached.open(sealedWithOld, 'sid')?.stale).toBe(true);
  });
});
