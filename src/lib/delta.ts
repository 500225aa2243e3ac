import type { Change } from '../session/state.ts';
import type { AtomicOp, JsonValue, SessionDelta } from '../store.ts';

/** The changes of one request as a store delta; with `expiresAt`, the deadline moves too (to it, seen `now`). */
export function toDelta(
  changes: ReadonlyMap<string, Change>,
  expiresAt?: number,
  now?: number,
): SessionDelta {
  const set: Record<string, JsonValue> = {};
  const unset: string[] = [];
  const ops: AtomicOp[] = [];
  for (const [key, change] of changes) {
    if (change.kind === 'set') set[key] = change.value;
    else if (change.kind === 'unset') unset.push(key);
    else ops.push(...change.ops);
  }
  return expiresAt === undefined
    ? { set, unset, ops }
    : { set, unset, ops, expiresAt, lastSeenAt: now! };
}
