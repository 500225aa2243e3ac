import type { JsonValue } from '../store.ts';

/**
 * Deep-copy `value`, throwing a TypeError (naming the path) for anything JSON would not carry
 * back faithfully: functions, symbols, BigInt, `undefined` inside objects or arrays, NaN and
 * Infinity, cycles, and objects that are not plain (Date, Map, class instances) — those would
 * come back as something else on the next request, which is a bug better caught at the call.
 */
export function copyJson(value: unknown, path = 'value', seen: object[] = []): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw new TypeError(
        `${path} is ${value}, which JSON cannot carry (it would come back as null)`,
      );
    case 'object': {
      if (value === null) return null;
      if (seen.includes(value)) throw new TypeError(`${path} is a circular reference`);
      seen.push(value);
      let out: JsonValue;
      if (Array.isArray(value)) {
        const list: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined)
            throw new TypeError(`${path}[${i}] is undefined, which JSON cannot carry`);
          list[i] = copyJson(item, `${path}[${i}]`, seen);
        }
        out = list;
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as object).constructor?.name ?? 'object';
          const hint = value instanceof Date ? ' (store date.toISOString() or date.getTime())' : '';
          throw new TypeError(`${path} is a ${kind}, which JSON cannot carry faithfully${hint}`);
        }
        const obj: Record<string, JsonValue> = {};
        for (const key of Object.keys(value)) {
          const item: unknown = (value as Record<string, unknown>)[key];
          if (item === undefined)
            throw new TypeError(`${path}.${key} is undefined, which JSON cannot carry`);
          obj[key] = copyJson(item, `${path}.${key}`, seen);
        }
        out = obj;
      }
      seen.pop();
      return out;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot carry`);
  }
}

/** Deep-copy a value already known to be JSON (values read from the store). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value)) out[key] = cloneJson(value[key]!);
  return out as T;
}
