/**
 * The Redis store's record encoding: a session as one hash (`m:*` fields for the record's own
 * fields, `d:<key>` per data key, with `p:<i>:<key>` pieces for a long value) and a delta as the
 * scripts' arguments (CREATE and APPLY in src/lib/redis-scripts.ts).
 * @internal
 */
import type { SessionDelta, SessionRecord } from '../store.ts';

/**
 * Field names inside a session's hash: `d:<key>` for data (and `p:<i>:<key>` for the rest of a
 * long value), `m:*` for the record's own fields.
 */
const DATA = 'd:';

/** HGETALL's answer inside a script: a flat field/value list. */
export function fromPairs(list: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) hash[list[i]!] = list[i + 1]!;
  return hash;
}

/**
 * Longest value (and field name) a hash keeps in Redis's compact `listpack` encoding
 * (`hash-max-listpack-value`, 64 bytes by default). One longer value turns the whole hash into a
 * `hashtable`, which costs about 50 bytes more per field (docs/stores/redis.md, "Memory").
 */
const LISTPACK_VALUE = 64;

/**
 * `text` as fields `name`, `name1`, `name2`, … of at most LISTPACK_VALUE UTF-8 bytes each (a
 * character is never split), so a browser's user agent (usually 100–150 bytes) keeps the hash
 * compact. Only the record's metadata is stored this way: it is written once, at create, and no
 * script reads it; data values stay one field each, for the scripts' per-key deltas.
 */
function pieced(
  name: string,
  text: string,
  continuation: (i: number) => string = (i) => `${name}${i}`,
): string[] {
  const out: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > LISTPACK_VALUE) {
      out.push(out.length === 0 ? name : continuation(out.length / 2), piece);
      piece = '';
      bytes = 0;
    }
    piece += ch;
    bytes += n;
  }
  out.push(out.length === 0 ? name : continuation(out.length / 2), piece);
  return out;
}

/** The text `pieced` wrote under `name`, or undefined. */
function unpieced(
  hash: Record<string, string>,
  name: string,
  continuation: (i: number) => string = (i) => `${name}${i}`,
): string | undefined {
  let text = hash[name];
  if (text === undefined) return undefined;
  for (let i = 1; hash[continuation(i)] !== undefined; i++) text += hash[continuation(i)];
  return text;
}

/**
 * The field of a data value's `i`-th continuation piece (`p:<i>:<key>`): a value's JSON text
 * longer than LISTPACK_VALUE bytes is kept as `d:<key>` and these, so that one long value (a
 * 65-byte user object) does not turn the whole hash into a `hashtable`. The scripts write and
 * read them the same way (DATA_PIECES in src/lib/redis-scripts.ts).
 */
const piece = (key: string) => (i: number) => `p:${i}:${key}`;

/** A record as the hash's field/value list (see CREATE in src/lib/redis-scripts.ts). */
export function recordFields(r: SessionRecord): string[] {
  const fields: string[] = [
    'm:c',
    String(r.createdAt),
    'm:l',
    String(r.lastSeenAt),
    'm:e',
    String(r.expiresAt),
  ];
  fields.push('m:a', String(r.absoluteExpiresAt));
  const { userAgent, ip, ...rest } = r.meta as { userAgent?: string; ip?: string };
  if (userAgent !== undefined) fields.push(...pieced('m:ua', userAgent));
  if (ip !== undefined) fields.push(...pieced('m:ip', ip));
  if (Object.keys(rest).length > 0) fields.push('m:meta', JSON.stringify(rest));
  if (r.userId !== null) fields.push('m:u', r.userId);
  for (const k of Object.keys(r.data))
    fields.push(...pieced(DATA + k, JSON.stringify(r.data[k]), piece(k)));
  return fields;
}

/** A delta as script arguments (see APPLY in src/lib/redis-scripts.ts). */
export function deltaArgs(delta: SessionDelta): (string | number)[] {
  const args: (string | number)[] = [];
  const set = delta.set ?? {};
  const setKeys = Object.keys(set);
  args.push(setKeys.length);
  for (const k of setKeys) args.push(DATA + k, JSON.stringify(set[k]));
  const unset = delta.unset ?? [];
  args.push(unset.length, ...unset.map((k) => DATA + k));
  const ops = delta.ops ?? [];
  args.push(ops.length);
  for (const op of ops)
    args.push(op.op, DATA + op.key, op.op === 'increment' ? op.by : JSON.stringify(op.values));
  return args;
}

/** A write's arguments for APPLY_ONLY: its header (now, expiresAt|'', lastSeenAt|''), then the delta. */
export function writeArgs(delta: SessionDelta, now: number): (string | number)[] {
  return [now, delta.expiresAt ?? '', delta.lastSeenAt ?? '', ...deltaArgs(delta)];
}

/** READ's text (the hash as a flat JSON array) as a record; `null` when missing or expired at `now`. */
export function readRecord(text: string, now: number): SessionRecord | null {
  if (text === '{}') return null;
  const hash = fromPairs(JSON.parse(text) as string[]);
  if (hash['m:e'] === undefined || Number(hash['m:e']) <= now) return null;
  return toRecord(hash);
}

export function toRecord(hash: Record<string, string>): SessionRecord {
  const data: SessionRecord['data'] = {};
  for (const field of Object.keys(hash)) {
    if (!field.startsWith(DATA)) continue;
    const key = field.slice(DATA.length);
    data[key] = JSON.parse(unpieced(hash, field, piece(key))!);
  }
  return {
    data,
    userId: hash['m:u'] ?? null,
    createdAt: Number(hash['m:c']),
    lastSeenAt: Number(hash['m:l']),
    expiresAt: Number(hash['m:e']),
    absoluteExpiresAt: Number(hash['m:a']),
    meta: metaOf(hash),
  };
}

/**
 * The record's metadata: `m:ua…` and `m:ip…` pieces, plus `m:meta` (JSON) for anything else. A
 * hash written before the pieces (all of the metadata as JSON in `m:meta`) reads the same.
 */
function metaOf(hash: Record<string, string>): SessionRecord['meta'] {
  const meta: { userAgent?: string; ip?: string } = JSON.parse(hash['m:meta'] ?? '{}');
  const userAgent = unpieced(hash, 'm:ua');
  if (userAgent !== undefined) meta.userAgent = userAgent;
  const ip = unpieced(hash, 'm:ip');
  if (ip !== undefined) meta.ip = ip;
  return meta;
}
