import { randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_BYTES = 32;

/** A new per-session CSRF secret (kept in the session, never sent as is). */
export function newCsrfSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * A token for one response: a fresh random mask and the secret XOR the mask. Every page gets a
 * different string, so a compression side channel (BREACH) cannot recover the secret byte by byte.
 */
export function maskCsrfSecret(secret: string): string {
  const raw = Buffer.from(secret, 'base64url');
  const mask = randomBytes(raw.length);
  const out = Buffer.allocUnsafe(raw.length * 2);
  mask.copy(out, 0);
  for (let i = 0; i < raw.length; i++) out[raw.length + i] = raw[i]! ^ mask[i]!;
  return out.toString('base64url');
}

/** Does a masked token carry this secret? Constant-time; false for anything malformed. */
export function csrfTokenMatches(token: unknown, secret: string): boolean {
  if (typeof token !== 'string' || token.length !== 86) return false;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== SECRET_BYTES * 2) return false;
  const expected = Buffer.from(secret, 'base64url');
  const unmasked = Buffer.allocUnsafe(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i++) unmasked[i] = raw[i]! ^ raw[SECRET_BYTES + i]!;
  return expected.length === SECRET_BYTES && timingSafeEqual(unmasked, expected);
}
