import type { JsonValue } from '../store.ts';

/**
 * Deepest nesting a session value may have. Redis's cjson refuses more than 1000 levels and
 * every copy here is recursive; 100 is far past any real session value and keeps every store able
 * to read back what it wrote.
 */
export const MAX_DEPTH = 100;

/**
 * The one rule for text every store keeps alike (values, keys, user ids): no NUL character
 * (PostgreSQL's text and jsonb cannot hold it) and no lone surrogate (not valid UTF-8, so no
 * store can encode it faithfully). Refused at the call with a TypeError, never a 503 later.
 */
/** In `u` mode a well-formed pair is one code point, so only a lone surrogate is in Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

export function checkText(text: string, path: string): void {
  if (text.includes('\u0000'))
    throw new TypeError(
      `${path} contains a NUL character (\\u0000), which not every store can keep`,
    );
  if (LONE_SURROGATE.test(text))
    throw new TypeError(
      `${path} contains a lone surrogate (not valid Unicode), which not every store can keep`,
    );
}

/**
 * Deep-copy `value`, throwing a TypeError (naming the path) for anything JSON would not carry
 * back faithfully: functions, symbols, BigInt, `undefined` inside objects or arrays, NaN and
 * Infinity, cycles, objects that are not plain (Date, Map, class instances), text with NUL or a
 * lone surrogate (see {@link checkText}), a `__proto__` member (JSON keeps it as data but
 * JavaScript objects would turn it into a prototype), and nesting deeper than {@link MAX_DEPTH}.
 * Those would come back as something else on the next request, or not at all: a bug better
 * caught at the call.
 */
export function copyJson(value: unknown, path = 'value', seen: object[] = []): JsonValue {
  switch (typeof value) {
    case 'string':
      checkText(value, path);
      return value;
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
      if (seen.length >= MAX_DEPTH)
        throw new TypeError(`${path} is nested more than ${MAX_DEPTH} levels deep`);
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
          if (key === '__proto__')
            throw new TypeError(`${path} has a "__proto__" member, which tessera refuses as a key`);
          checkText(key, `${path} key ${JSON.stringify(key.slice(0, 40))}`);
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
  for (const key of Object.keys(value)) {
    // A "__proto__" read back from JSON is data: define it, never assign it (which would set the prototype).
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: cloneJson(value[key]!),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = cloneJson(value[key]!);
  }
  return out as T;
}
