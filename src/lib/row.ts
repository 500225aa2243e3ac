/**
 * A record as the SQL stores' row, in their column order (`key, data, user_id, created_at,
 * last_seen_at, expires_at, absolute_expires_at, meta`), for their create and insert statements.
 * @internal
 */
import type { SessionRecord } from '../store.ts';

export function rowValues(
  key: string,
  r: SessionRecord,
  encodeData: (data: SessionRecord['data']) => string = JSON.stringify,
): [string, string, string | null, number, number, number, number, string] {
  return [
    key,
    encodeData(r.data),
    r.userId,
    r.createdAt,
    r.lastSeenAt,
    r.expiresAt,
    r.absoluteExpiresAt,
    JSON.stringify(r.meta),
  ];
}
