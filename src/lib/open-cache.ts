import type { SealCodec, SealedPayload, SessionRecord } from '../store.ts';
import { cloneJson } from './json.ts';

/**
 * A sealed-cookie codec that remembers the values it opened, most recent `size` of them.
 * Opening is deterministic for a manager's fixed secrets, and a browser sends the same sealed
 * value on every request until the session changes, so repeating AES-GCM and the payload checks
 * is wasted work. Only values that opened are kept (forged ones cannot fill the cache); each hit
 * hands out a fresh copy, since the request's session changes its record in place; expiry and
 * revocation are still judged on every request by the manager.
 */
export function withOpenCache(codec: SealCodec, size = 1024): SealCodec {
  const opened = new Map<string, { readonly payload: SealedPayload; readonly stale: boolean }>();
  const copy = ({ id, record }: SealedPayload): SealedPayload => ({
    id,
    record: { ...record, data: cloneJson(record.data), meta: { ...record.meta } } as SessionRecord,
  });
  return {
    seal: (payload, cookieName) => codec.seal(payload, cookieName),
    open(value, cookieName) {
      const cacheKey = `${cookieName}=${value}`;
      const hit = opened.get(cacheKey);
      if (hit) return { payload: copy(hit.payload), stale: hit.stale };
      const result = codec.open(value, cookieName);
      if (!result) return null;
      if (opened.size >= size) opened.delete(opened.keys().next().value as string);
      opened.set(cacheKey, { payload: copy(result.payload), stale: result.stale });
      return result;
    },
  };
}
