import { createHmac, createSecretKey, hash, type KeyObject, timingSafeEqual } from 'node:crypto';
import { fillRandom } from './random-pool.ts';

/** 32 bytes from the CSPRNG: 256 bits, far past guessing (OWASP asks for at least 64). */
const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const B64_32 = 43;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** One token's bytes, reused: filled from the pool, encoded, zeroed (src/lib/random-pool.ts). */
const tokenBytes = Buffer.alloc(TOKEN_BYTES);

/** A new session token (base64url, 43 characters). Only the browser ever holds it. */
export function newToken(): string {
  const token = fillRandom(tokenBytes, 0, TOKEN_BYTES).toString('base64url');
  tokenBytes.fill(0);
  return token;
}

/** The store key for a token: SHA-256, so a leaked store cannot be replayed as cookies. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** Secrets as HMAC keys (a KeyObject skips re-importing the key on every request). */
export function importSecrets(secrets: readonly (string | Uint8Array)[]): KeyObject[] {
  return secrets.map((secret) =>
    createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)),
  );
}

/**
 * A CSRF binding (a "nonce": a token handed out with no record yet) is signed under its own
 * label, so a cookie says which it is: only a nonce may later become a record under the same
 * token, never the token of a session that ended.
 */
const NONCE_LABEL = 'tessera-nonce\0';

function mac(token: string, key: KeyObject, nonce = false): Buffer {
  const h = createHmac('sha256', key);
  if (nonce) h.update(NONCE_LABEL);
  return h.update(token).digest();
}

/** `token.signature`, signed with the first (current) secret; a nonce under its own label. */
export function signToken(token: string, keys: readonly KeyObject[], nonce = false): string {
  return `${token}.${mac(token, keys[0]!, nonce).toString('base64url')}`;
}

/**
 * Verify a cookie value against every secret (newest first). Returns the token and the index of
 * the secret that matched (> 0 means the cookie should be re-signed), or `null` for anything
 * malformed or forged. Comparison is constant-time; nothing here throws on bad input.
 */
export function verifyToken(
  value: string,
  keys: readonly KeyObject[],
): { token: string; secretIndex: number; nonce: boolean } | null {
  if (value.length !== 2 * B64_32 + 1 || value.charCodeAt(B64_32) !== 46 /* . */) return null;
  const token = value.slice(0, B64_32);
  const signature = value.slice(B64_32 + 1);
  if (!B64URL.test(token) || !B64URL.test(signature)) return null;
  const given = Buffer.from(signature, 'base64url');
  // A canonical encoding only: otherwise several cookie strings would verify for one token.
  if (given.length !== 32 || given.toString('base64url') !== signature) return null;
  for (let i = 0; i < keys.length; i++) {
    if (timingSafeEqual(mac(token, keys[i]!), given))
      return { token, secretIndex: i, nonce: false };
  }
  for (let i = 0; i < keys.length; i++) {
    if (timingSafeEqual(mac(token, keys[i]!, true), given))
      return { token, secretIndex: i, nonce: true };
  }
  return null;
}

/**
 * Whether `value` has the shape of a signed token (so a refusal of it is a forgery, or a cookie
 * signed with a secret since removed, rather than junk).
 */
export function isTokenShaped(value: string): boolean {
  return (
    value.length === 2 * B64_32 + 1 &&
    value.charCodeAt(B64_32) === 46 &&
    B64URL.test(value.slice(0, B64_32)) &&
    B64URL.test(value.slice(B64_32 + 1))
  );
}

/** A verified cookie: its token, the store key, and which secret signed it. */
export interface Verified {
  readonly token: string;
  readonly key: string;
  readonly secretIndex: number;
  /** Signed as a CSRF binding with no record (see `NONCE_LABEL`). */
  readonly nonce: boolean;
}

/**
 * A verifier that remembers the cookie values it accepted, most recent `size` of them.
 * A browser sends the same cookie on every request of a visit; verifying it again would repeat an
 * HMAC and a SHA-256 with the same result (the secrets of a manager never change). Only values
 * that verified are kept, so forged values cannot fill the cache, and the store is still read on
 * every request: a revoked session is as dead as without the cache.
 */
export function cachedVerifier(
  keys: readonly KeyObject[],
  size = 4096,
): (value: string) => Verified | null {
  const seen = new Map<string, Verified>();
  return function verify(value) {
    const hit = seen.get(value);
    if (hit) return hit;
    const verified = verifyToken(value, keys);
    if (!verified) return null;
    const entry: Verified = { ...verified, key: hashToken(verified.token) };
    if (seen.size >= size) seen.delete(seen.keys().next().value as string);
    seen.set(value, entry);
    return entry;
  };
}
