import { randomFillSync } from 'node:crypto';

/**
 * Bytes from the CSPRNG drawn 4 KiB at a time, as `crypto.randomUUID` does: each call to the
 * CSPRNG costs far more than the bytes (one `randomFillSync` of a 12-byte nonce was a quarter of
 * a sealed-cookie write's CPU under load, `node --cpu-prof`). Every byte is handed out once and
 * zeroed in the pool as it leaves.
 * @internal
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** Write `length` fresh random bytes into `target` at `at` (at most 4 KiB); returns `target`. */
export function fillRandom<T extends Uint8Array>(target: T, at: number, length: number): T {
  if (length > POOL_BYTES) throw new RangeError('fillRandom: at most 4096 bytes at a time');
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const slice = pool.subarray(offset, offset + length);
  target.set(slice, at);
  slice.fill(0);
  offset += length;
  return target;
}
