/**
 * The server-store backend: the cookie carries `token.signature` (HMAC-SHA256), the store keeps
 * the record under SHA-256(token).
 * @internal
 */
import type { KeyObject } from 'node:crypto';
import { cachedVerifier, hashToken, isTokenShaped, newToken, signToken } from '../lib/token.ts';
import type { StoreMonitor } from '../lifecycle/monitor.ts';
import type { SessionRecord, SessionStore } from '../store.ts';
import type { Backend, Verified } from './backend.ts';

export function serverBackend(
  store: SessionStore,
  keys: readonly KeyObject[],
  monitor: StoreMonitor,
  keepsMeta: boolean,
): Backend {
  const verify = cachedVerifier(keys);
  const call = monitor.call;

  // Until every store implements the atomic rename: alive-checked by the update (which applies
  // the delta to the current record), then the record is copied. Not atomic, so a revoke landing
  // between the steps can still be outrun; the stores' own `regenerate` closes that.
  async function renameInSteps(
    oldKey: string,
    newKey: string,
    change: Parameters<Backend['regenerate']>[2],
    now: number,
  ) {
    if ((await call('update', () => store.update(oldKey, change.delta, now))) === null) return null;
    const current = await call('get', () => store.get(oldKey, now));
    if (!current) return null;
    const record: SessionRecord = { ...current, userId: change.userId };
    await call('create', () => store.create(newKey, record));
    await call('destroy', () => store.destroy(oldKey));
    return record;
  }

  return {
    cookieLimit: Number.POSITIVE_INFINITY,
    keepsMeta,
    cookieHoldsRecord: false,
    verify(value) {
      const v = verify(value);
      if (v === null) return isTokenShaped(value) ? 'forged' : 'malformed';
      const current = v.secretIndex === 0;
      return {
        token: v.token,
        key: v.key,
        // A nonce's cookie that finds a record (its first write is done) is re-sent as a session's.
        stale: !current || v.nonce,
        value: current && !v.nonce ? value : null,
        record: null,
        nonce: v.nonce,
      };
    },
    async load(v: Verified, now) {
      return (await call('get', () => store.get(v.key, now))) ?? 'unknown';
    },
    issue() {
      const token = newToken();
      return { token, key: hashToken(token) };
    },
    cookieValue(ids, _record, reuse) {
      // HMAC is deterministic: the value the request came with is what signing would produce.
      return reuse ?? signToken(ids.token, keys);
    },
    create: (key, record) => call('create', () => store.create(key, record)),
    nonces: store.insert
      ? {
          cookieValue: (token) => signToken(token, keys, true),
          insert: (key, record, now) => call('insert', () => store.insert!(key, record, now)),
        }
      : null,
    // The request path needs only "was it alive": a store that can skip sending the record back does.
    update: store.apply
      ? (key, delta, now) => call('update', () => store.apply!(key, delta, now))
      : async (key, delta, now) =>
          (await call('update', () => store.update(key, delta, now))) !== null,
    touch: async (key, expiresAt, now) =>
      (await call('touch', () => store.touch(key, expiresAt, now, now))) !== null,
    regenerate(oldKey, newKey, change, now) {
      const rename = store.regenerate;
      if (!rename) return renameInSteps(oldKey, newKey, change, now);
      return call('regenerate', () =>
        rename.call(store, oldKey, newKey, { delta: change.delta, userId: change.userId }, now),
      );
    },
    async destroy(key) {
      await call('destroy', () => store.destroy(key));
    },
    async enforceMax(userId, keep, max, now) {
      if (!Number.isFinite(max)) return [];
      const surplus = store.destroyUserSurplus;
      if (surplus) {
        // One statement or script: no record is loaded, whatever the number of sessions.
        return call('destroyUserSurplus', () =>
          surplus.call(store, userId, { keep: max - 1, except: keep }, now),
        );
      }
      const live = await call('listByUser', () => store.listByUser(userId, now));
      if (live.length <= max) return [];
      const oldest = live
        .filter((s) => s.key !== keep)
        .sort((a, b) => a.record.lastSeenAt - b.record.lastSeenAt)
        .slice(0, live.length - max);
      if (oldest.length === 0) return [];
      // The surplus goes in one batch (one statement or script), not one round trip per session.
      const keys = oldest.map((s) => s.key);
      return call('destroyByUser', () => store.destroyByUser(userId, { keys, except: keep }));
    },
  };
}
