import type { AtomicOp, JsonValue, SessionDelta, SessionRecord } from '../store.ts';

/** JSON equality as stores define it for `pull`: same JSON text. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Apply one atomic op to a current value (the reference semantics every store follows). */
export function applyOp(current: JsonValue | undefined, op: AtomicOp): JsonValue | undefined {
  switch (op.op) {
    case 'push':
      return Array.isArray(current) ? [...current, ...op.values] : [...op.values];
    case 'pull':
      if (!Array.isArray(current)) return current;
      return current.filter((item) => !op.values.some((v) => jsonEqual(item, v)));
    case 'increment':
      return (typeof current === 'number' ? current : 0) + op.by;
  }
}

/** Apply a delta to a record in place (memory store, sealed cookies, the session's own view). */
export function applyDelta(record: SessionRecord, delta: SessionDelta): void {
  const data = record.data;
  if (delta.unset) for (const key of delta.unset) delete data[key];
  if (delta.set) for (const key of Object.keys(delta.set)) data[key] = delta.set[key]!;
  if (delta.ops) {
    for (const op of delta.ops) {
      const next = applyOp(data[op.key], op);
      if (next === undefined) delete data[op.key];
      else data[op.key] = next;
    }
  }
  if (delta.expiresAt !== undefined) record.expiresAt = delta.expiresAt;
  if (delta.lastSeenAt !== undefined) record.lastSeenAt = delta.lastSeenAt;
  if (delta.userId !== undefined) record.userId = delta.userId;
}
