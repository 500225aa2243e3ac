/**
 * Every deadline of a session is computed here and nowhere else: when a new record dies, how far
 * a request slides the idle deadline, whether a loaded record is still alive, when a touch is
 * due, and what Max-Age the cookie gets. The record's own fields are the truth (expiry is judged
 * on the server, never trusted from the cookie); a per-session {@link Lifetime} (set by
 * `login(userId, { idleTimeout, absoluteTimeout, persistent })`) can only tighten the absolute
 * bound the manager was configured with.
 * @internal
 */
import type { JsonValue, SessionRecord } from '../store.ts';

/** How long one session may live. */
export interface Lifetime {
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  readonly touchAfter: number;
  /** `false`: a browser-session cookie (no Max-Age). */
  readonly persistent: boolean;
}

/** The reserved data key a per-session lifetime travels in, so every store carries it unchanged. */
export const LIFE = '$life';

/** The lifetime of a session whose data is `data`: its own, or the manager's. */
export function lifetimeOf(data: Readonly<Record<string, JsonValue>>, base: Lifetime): Lifetime {
  const own = data[LIFE];
  if (own === undefined) return base; // the common case: no allocation
  if (typeof own !== 'object' || own === null || Array.isArray(own)) return base;
  const { i, a, p } = own as { i?: unknown; a?: unknown; p?: unknown };
  const idleTimeout =
    typeof i === 'number' && i > 0 ? Math.min(i, base.absoluteTimeout) : base.idleTimeout;
  const absoluteTimeout =
    typeof a === 'number' && a > 0 ? Math.min(a, base.absoluteTimeout) : base.absoluteTimeout;
  return {
    idleTimeout: Math.min(idleTimeout, absoluteTimeout),
    absoluteTimeout,
    touchAfter: Math.min(base.touchAfter, Math.floor(idleTimeout / 4)),
    persistent: typeof p === 'boolean' ? p : base.persistent,
  };
}

/** The deadlines of a record created at `now`. */
export function newDeadlines(
  now: number,
  life: Lifetime,
): Pick<SessionRecord, 'createdAt' | 'lastSeenAt' | 'expiresAt' | 'absoluteExpiresAt'> {
  return {
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + Math.min(life.idleTimeout, life.absoluteTimeout),
    absoluteExpiresAt: now + life.absoluteTimeout,
  };
}

/** When the session dies whatever its activity: the record's bound, tightened by its lifetime. */
export function absoluteDeadline(record: SessionRecord, life: Lifetime): number {
  return Math.min(record.absoluteExpiresAt, record.createdAt + life.absoluteTimeout);
}

/** The idle deadline a request at `now` gives the session (never past the absolute one). */
export function slide(record: SessionRecord, now: number, life: Lifetime): number {
  return Math.min(now + life.idleTimeout, absoluteDeadline(record, life));
}

/** Dead at `now`: idle too long, or past its absolute deadline. */
export function isExpired(record: SessionRecord, now: number, life: Lifetime): boolean {
  return record.expiresAt <= now || absoluteDeadline(record, life) <= now;
}

/** A request that changed nothing writes the sliding extension at most once per `touchAfter`. */
export function touchDue(record: SessionRecord, now: number, life: Lifetime): boolean {
  return now - record.lastSeenAt >= life.touchAfter;
}

/** The cookie's Max-Age (ms): the time left on the server, or none for a browser-session cookie. */
export function cookieMaxAge(expiresAt: number, now: number, life: Lifetime): number | undefined {
  return life.persistent ? expiresAt - now : undefined;
}
