/** What the conformance cases share: fresh keys and users, a record at a given time, a case's shape. */
import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue, SessionRecord, SessionStore } from '../store.ts';

export const MINUTE = 60_000;

/** A fresh hashed key, shaped like the ones the manager uses. */
export function newKey(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

export function newUser(): string {
  return `user-${randomBytes(6).toString('hex')}`;
}

export function recordAt(
  now: number,
  data: Record<string, JsonValue> = {},
  userId: string | null = null,
): SessionRecord {
  return {
    data,
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * 60 * MINUTE,
    meta: { userAgent: 'conformance/1.0', ip: '127.0.0.1' },
  };
}

/** One case before it is bound to a store: `storeConformance` makes the store and disposes of it. */
export interface StoreCase {
  readonly name: string;
  readonly body: (store: SessionStore, now: number) => Promise<void>;
}

export function storeCase(name: string, body: StoreCase['body']): StoreCase {
  return { name, body };
}
