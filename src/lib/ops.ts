import type { AtomicOp, JsonValue, SessionDelta, SessionRecord } from '../store.ts';

/**
 * JSON text with every object's keys sorted: two values are equal for `pull` when their
 * canonical texts are (so `{"a":1,"b":2}` equals `{"b":2,"a":1}`, as on every store).
 */
export function canonicalJson(value: JsonValue): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}

/** JSON equality as stores define it for `pull`: same canonical JSON text. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  return canonicalJson(a) === canonicalJson(b);
}

/** Apply one atomic op to a current value (the reference semantics every store follows). */
export function applyOp(current: JsonValue | undefined, op: AtomicOp): JsonValue | undefined {
  switch (op.op) {
    case 'push':
      return Array.isArray(current) ? [...current, ...op.values] : [...op.values];
    case 'pull':
      if (!Array.isArray(current)) return current;
      return current.filter((item) => !op.values.some((v) => jsonEqual(item, v)));
    case 'increment': {
      // A result JSON cannot carry (±Infinity, NaN) is never written: the value stays as it was,
      // so no store ever holds what it cannot read back (the session refuses it at the call).
      const next = (typeof current === 'number' ? current : 0) + op.by;
      return Number.isFinite(next) ? next : current;
    }
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
}
