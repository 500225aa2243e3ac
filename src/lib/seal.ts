/**
 * Sealing a session into a cookie value: AES-256-GCM, authenticated, versioned.
 *
 * Format v1: `v1.` + base64url( nonce (12 bytes) || ciphertext || tag (16 bytes) ), unpadded.
 *
 * - Key: HKDF-SHA256 of each secret with a fixed salt and info, so the raw secret (which also
 *   signs token cookies) is never used as an AES key and a future v2 derives different keys.
 * - Associated data: the format version and the cookie name, so a value cannot be replayed under
 *   another cookie (e.g. moved from `__Host-sid` into a `sid` that a subdomain can set) nor read
 *   as another version.
 * - Nonce: 96 random bits per seal. GCM must never reuse a (key, nonce) pair; random nonces keep
 *   that below 2^-32 for the first 2^32 seals under one secret (NIST SP 800-38D 8.3), which is
 *   why the docs ask to rotate secrets.
 * - Plaintext: the JSON array `[id, userId, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt,
 *   data, meta?]` — positional, because every byte counts towards the 4096-byte cookie limit.
 *
 * Opening never throws: anything that is not exactly a value this code sealed, under one of the
 * keys, for this cookie name, with a well-formed payload, is `null`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import type { JsonValue, SealCodec, SealedPayload, SessionMeta, SessionRecord } from '../store.ts';
import { fillRandom } from './random-pool.ts';

const PREFIX = 'v1.';
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Domain separation: these keys are for sealing cookies with format v1 and nothing else. */
const HKDF_INFO = 'tessera/cookie-seal/v1';
/** A fixed salt is enough: the secrets are already 32+ random bytes (RFC 5869 3.1). */
const HKDF_SALT = 'tessera/cookie-seal/salt';
/** Browsers keep 4096 bytes per cookie; a value twice that long is not ours, so do no work on it. */
const MAX_VALUE_LENGTH = 8192;
/** The smallest plaintext a valid payload can have is well over this; shorter is truncated. */
const MIN_PLAINTEXT = 16;
const MIN_VALUE_LENGTH =
  PREFIX.length + Math.ceil(((NONCE_BYTES + MIN_PLAINTEXT + TAG_BYTES) * 4) / 3);
const SHAPE = /^v1\.[A-Za-z0-9_-]+$/;
/** Session ids are base64url (the manager issues 43 characters); anything else is not ours. */
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const AAD_CACHE_LIMIT = 16;

/** One AES key per secret, current first. Derived once, when the store is bound. */
export function deriveSealKeys(secrets: readonly Uint8Array[]): KeyObject[] {
  return secrets.map((secret) =>
    createSecretKey(new Uint8Array(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, KEY_BYTES))),
  );
}

/**
 * A codec over keys derived from `secrets`: seals with the first, opens with any.
 *
 * @example
 * ```ts
 * const codec = createSealCodec([secret]);
 * const value = codec.seal({ id, record }, 'sid');
 * codec.open(value, 'sid'); // { payload: { id, record }, stale: false }
 * ```
 */
export function createSealCodec(secrets: readonly Uint8Array[]): SealCodec {
  if (secrets.length === 0) throw new TypeError('createSealCodec: at least one secret is needed');
  const keys = deriveSealKeys(secrets);
  const current = keys[0]!;
  const aads = new Map<string, Buffer>();

  // The cookie name is the same on every request; build its associated data once.
  function aadFor(cookieName: string): Buffer {
    let aad = aads.get(cookieName);
    if (aad === undefined) {
      aad = Buffer.from(`${HKDF_INFO}\0${cookieName}`, 'utf8');
      if (aads.size < AAD_CACHE_LIMIT) aads.set(cookieName, aad);
    }
    return aad;
  }

  return {
    seal(payload, cookieName) {
      const plain = Buffer.from(encodePayload(payload), 'utf8');
      const out = Buffer.allocUnsafe(NONCE_BYTES + plain.length + TAG_BYTES);
      const nonce = fillRandom(out, 0, NONCE_BYTES).subarray(0, NONCE_BYTES);
      const cipher = createCipheriv(ALGORITHM, current, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aadFor(cookieName));
      let at = NONCE_BYTES + cipher.update(plain).copy(out, NONCE_BYTES);
      at += cipher.final().copy(out, at);
      cipher.getAuthTag().copy(out, at);
      return PREFIX + out.toString('base64url');
    },

    open(value, cookieName) {
      if (
        typeof value !== 'string' ||
        value.length < MIN_VALUE_LENGTH ||
        value.length > MAX_VALUE_LENGTH ||
        !SHAPE.test(value) ||
        !canonicalBase64url(value, PREFIX.length)
      ) {
        return null;
      }
      // Views into one buffer: no copies of the ciphertext before it is authenticated.
      const bytes = Buffer.from(value.slice(PREFIX.length), 'base64url');
      const nonce = bytes.subarray(0, NONCE_BYTES);
      const sealed = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      const aad = aadFor(cookieName);
      for (let i = 0; i < keys.length; i++) {
        const plain = decrypt(keys[i]!, nonce, sealed, tag, aad);
        if (plain === null) continue;
        // Authentic but malformed can only mean a bug or a future format: not a session.
        const payload = decodePayload(plain);
        return payload === null ? null : { payload, stale: i > 0 };
      }
      return null;
    },
  };
}

function decrypt(
  key: KeyObject,
  nonce: Buffer,
  sealed: Buffer,
  tag: Buffer,
  aad: Buffer,
): Buffer | null {
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plain = decipher.update(sealed);
  try {
    // Throws when the tag does not verify; the plaintext above is discarded unread then.
    decipher.final();
  } catch {
    return null;
  }
  return plain;
}

/** base64url alphabet index of a character code (the caller has checked the alphabet). */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z
  if (code >= 65) return code - 65; // A-Z
  if (code >= 48) return code + 4; // 0-9
  return code === 45 ? 62 : 63; // - _
}

/**
 * Node's base64url decoder is lenient: it ignores the unused low bits of the last character, so
 * several strings decode to the same bytes. Accept only the one string we would have written, so
 * that no altered cookie value ever opens.
 */
function canonicalBase64url(value: string, start: number): boolean {
  const rest = (value.length - start) % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = sextet(value.charCodeAt(value.length - 1));
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** The positional plaintext. Throws a TypeError for a payload `open` would refuse. */
function encodePayload(payload: SealedPayload): string {
  const { id, record } = payload;
  const r = record;
  if (
    !isId(id) ||
    !isUserId(r.userId) ||
    !isTime(r.createdAt) ||
    !isTime(r.lastSeenAt) ||
    !isTime(r.expiresAt) ||
    !isTime(r.absoluteExpiresAt) ||
    !isObject(r.data) ||
    !isMeta(r.meta)
  ) {
    throw new TypeError('seal: the payload is not a session id and record');
  }
  const fields: JsonValue[] = [
    id,
    r.userId,
    r.createdAt,
    r.lastSeenAt,
    r.expiresAt,
    r.absoluteExpiresAt,
    r.data,
  ];
  const meta: Record<string, string> = {};
  if (r.meta.userAgent !== undefined) meta['u'] = r.meta.userAgent;
  if (r.meta.ip !== undefined) meta['i'] = r.meta.ip;
  if (meta['u'] !== undefined || meta['i'] !== undefined) fields.push(meta);
  return JSON.stringify(fields);
}

/** Parse and check every field: a payload is whole and well-typed, or it is `null`. */
function decodePayload(plain: Buffer): SealedPayload | null {
  let fields: unknown;
  try {
    fields = JSON.parse(plain.toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || (fields.length !== 7 && fields.length !== 8)) return null;
  const [id, userId, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, data, packedMeta] =
    fields as unknown[];
  if (
    !isId(id) ||
    !isUserId(userId) ||
    !isTime(createdAt) ||
    !isTime(lastSeenAt) ||
    !isTime(expiresAt) ||
    !isTime(absoluteExpiresAt) ||
    !isObject(data)
  ) {
    return null;
  }
  const meta = fields.length === 8 ? unpackMeta(packedMeta) : {};
  if (meta === null) return null;
  const record: SessionRecord = {
    // JSON.parse yields only JSON values, so a plain object is a valid `data`.
    data: data as Record<string, JsonValue>,
    userId,
    createdAt,
    lastSeenAt,
    expiresAt,
    absoluteExpiresAt,
    meta,
  };
  return { id, record };
}

function unpackMeta(value: unknown): SessionMeta | null {
  if (!isObject(value)) return null;
  let count = 0;
  const meta: { userAgent?: string; ip?: string } = {};
  for (const key of Object.keys(value)) {
    const field = value[key];
    if (typeof field !== 'string') return null;
    if (key === 'u') meta.userAgent = field;
    else if (key === 'i') meta.ip = field;
    else return null;
    count++;
  }
  return count === 0 ? null : meta;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

function isUserId(value: unknown): value is string | null {
  return value === null || (typeof value === 'string' && value.length > 0);
}

/** Epoch milliseconds. JSON.parse turns `1e999` into Infinity, hence the finiteness check. */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMeta(value: unknown): value is SessionMeta {
  if (!isObject(value)) return false;
  for (const key of Object.keys(value)) {
    const field = value[key];
    if ((key !== 'userAgent' && key !== 'ip') || (field !== undefined && typeof field !== 'string'))
      return false;
  }
  return true;
}
