/**
 * The sealed-cookie backend: the whole record travels in the cookie, sealed by the store's codec
 * (AES-256-GCM, bound to the cookie name). Nothing is written anywhere; revocation, when the
 * store has a list, is checked at load and again at regenerate, so a request that loaded the
 * session before a "sign out everywhere" cannot come out of it with a fresh cookie.
 * @internal
 */

import { hashToken, newToken } from '../lib/token.ts';
import type { StoreMonitor } from '../lifecycle/monitor.ts';
import type { RevocationList, SealCodec, SessionRecord } from '../store.ts';
import type { Backend, Verified } from './backend.ts';

/** Browsers keep at most 4096 bytes of name, value and attributes per cookie (RFC 6265 6.1). */
const COOKIE_LIMIT = 4096;

export function sealedBackend(
  codec: SealCodec,
  cookieName: string,
  revocations: RevocationList | undefined,
  monitor: StoreMonitor,
): Backend {
  async function revoked(record: SessionRecord, now: number, exemptFrom: number | null) {
    if (!revocations || record.userId === null) return false;
    const userId = record.userId;
    const notBefore = await monitor.call('revocation check', () =>
      revocations.notBefore(userId, now),
    );
    if (notBefore === null || record.createdAt >= notBefore) return false;
    return exemptFrom === null || exemptFrom < notBefore;
  }

  return {
    cookieLimit: COOKIE_LIMIT,
    // A sealed session cannot be listed, so nothing would read its meta; in the cookie it
    // would only spend up to ~350 of the 4096 bytes, on every request.
    keepsMeta: false,
    cookieHoldsRecord: true,
    verify(value) {
      const opened = codec.open(value, cookieName);
      if (!opened) return value.length === 0 ? 'malformed' : 'forged';
      const { id, record } = opened.payload;
      return { token: id, key: id, stale: opened.stale, value: null, record, nonce: false };
    },
    async load(v: Verified, now) {
      const record = v.record as SessionRecord;
      return (await revoked(record, now, null)) ? 'revoked' : record;
    },
    issue() {
      const key = hashToken(newToken());
      return { token: key, key };
    },
    cookieValue(ids, record) {
      return codec.seal({ id: ids.key, record }, cookieName);
    },
    async create() {},
    // The record travels in the cookie: a CSRF secret there costs no store row.
    nonces: null,
    async update() {
      return true; // the cookie sealed from the request's own view is the write
    },
    async touch() {
      return true;
    },
    async regenerate(_oldKey, _newKey, change, now) {
      const { loaded, exemptFrom } = change;
      if (await revoked(loaded, now, exemptFrom)) return null;
      const { expiresAt, lastSeenAt } = change.delta;
      const record: SessionRecord = {
        ...loaded,
        userId: change.userId,
        expiresAt: expiresAt ?? loaded.expiresAt,
        lastSeenAt: lastSeenAt ?? now,
        // The request that signed out the user's other devices starts a new lineage (or its own
        // cookie would die with theirs); the absolute deadline is kept either way.
        ...(exemptFrom === null ? {} : { createdAt: now }),
      };
      return record;
    },
    async destroy() {},
    async enforceMax() {
      return [];
    },
  };
}
