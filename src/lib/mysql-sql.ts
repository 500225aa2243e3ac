/**
 * The MySQL store's JSON across the server boundary: the expression that applies a delta to a
 * row's `data` inside one `UPDATE` (per flavour, MariaDB or MySQL), and the row as it comes back.
 * @internal
 */
import type { AtomicOp, SessionDelta, SessionRecord } from '../store.ts';
import { cloneJson } from './json.ts';

export interface Row {
  key: string;
  data: string | SessionRecord['data'];
  user_id: string | null;
  created_at: string | number;
  last_seen_at: string | number;
  expires_at: string | number;
  absolute_expires_at: string | number;
  meta: string | SessionRecord['meta'];
}

const json = <T>(value: string | T): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : value;

/** The row as a record; `copy`: its JSON values copied, for a row handed out once already. */
export function toRecord(row: Row, copy = false): SessionRecord {
  const data = json<SessionRecord['data']>(row.data);
  return {
    data: copy && typeof row.data !== 'string' ? cloneJson(data) : data,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    meta:
      copy && typeof row.meta !== 'string'
        ? { ...json<SessionRecord['meta']>(row.meta) }
        : json(row.meta),
  };
}

/** A JSON path to one top-level key, whatever characters it holds. */
export function pathOf(key: string): string {
  return `$."${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export type Flavour = 'mariadb' | 'mysql';

/**
 * The SQL for one delta: an expression for the new `data`, given the current one as `data`, and
 * its parameters (in order). Keys in `set`, `unset` and `ops` are disjoint (the contract), so every
 * key's new value is computed from the row's current value in the same statement; several ops on
 * one key nest, in order.
 */
export function dataExpression(
  delta: Pick<SessionDelta, 'set' | 'unset' | 'ops'>,
  flavour: Flavour,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let sql = 'data';
  const unset = delta.unset ?? [];
  if (unset.length > 0) {
    sql = `JSON_REMOVE(${sql}, ${unset.map(() => '?').join(', ')})`;
    params.push(...unset.map(pathOf));
  }
  const pairs: string[] = [];
  const setKeys = Object.keys(delta.set ?? {});
  if (setKeys.length > 0) {
    // Each value travels as JSON text and is inserted as JSON (not as a string).
    for (const key of setKeys) {
      pairs.push(`?, JSON_EXTRACT(?, '$')`);
      params.push(pathOf(key), JSON.stringify(delta.set![key]));
    }
  }
  const byKey = new Map<string, AtomicOp[]>();
  for (const op of delta.ops ?? []) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  const opParams: unknown[] = [];
  const replaces: string[] = [];
  const replaceParams: unknown[] = [];
  for (const [key, ops] of byKey) {
    let value = 'JSON_EXTRACT(data, ?)';
    let valueParams: unknown[] = [pathOf(key)];
    for (const op of fold(ops)) {
      if (op.op === 'push') {
        value = `CASE WHEN JSON_TYPE(${value}) = 'ARRAY' THEN JSON_MERGE_PRESERVE(${value}, ?) ELSE JSON_EXTRACT(?, '$') END`;
        const values = JSON.stringify(op.values);
        valueParams = [...valueParams, ...valueParams, values, values];
      } else if (op.op === 'increment') {
        // A sum past the largest double is not written (the value stays): no store keeps what
        // it cannot read back (conformance; guard added by the "stores" helper).
        const cur = `CAST(JSON_EXTRACT(${value}, '$') AS DOUBLE)`;
        value = `CASE WHEN JSON_TYPE(${value}) IN ('INTEGER', 'DOUBLE', 'DECIMAL', 'UNSIGNED INTEGER') THEN
          CASE WHEN (? > 0 AND ${cur} > 1.7976931348623157e308 - ?) OR (? < 0 AND ${cur} < -1.7976931348623157e308 - ?)
          THEN ${cur} ELSE ${cur} + ? END ELSE ? END`;
        const v = valueParams;
        valueParams = [...v, op.by, ...v, op.by, op.by, ...v, op.by, ...v, ...v, op.by, op.by];
      } else {
        // pull: keep the elements (in order) equal to none of the values, compared as JSON
        // (key order inside objects does not matter).
        const equal =
          flavour === 'mariadb' ? 'JSON_EQUALS(e.v, p.w)' : 'e.v = p.w'; /* MySQL: JSON = JSON */
        const aggregate =
          flavour === 'mariadb'
            ? `JSON_ARRAYAGG(JSON_EXTRACT(e.v, '$') ORDER BY e.ord)`
            : `JSON_ARRAYAGG(e.v)`; // MySQL 8 has no ORDER BY here; JSON_TABLE yields document order
        value = `CASE WHEN JSON_TYPE(${value}) = 'ARRAY' THEN COALESCE((SELECT ${aggregate}
            FROM JSON_TABLE(${value}, '$[*]' COLUMNS (ord FOR ORDINALITY, v JSON PATH '$')) AS e
            WHERE NOT EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (w JSON PATH '$')) AS p WHERE ${equal})), JSON_ARRAY())
          ELSE ${value} END`;
        valueParams = [...valueParams, ...valueParams, JSON.stringify(op.values), ...valueParams];
      }
    }
    // A key whose ops are all pulls is only ever replaced: a pull on a missing key leaves it missing.
    if (ops.every((op) => op.op === 'pull')) {
      replaces.push(`?, ${value}`);
      replaceParams.push(pathOf(key), ...valueParams);
    } else {
      pairs.push(`?, ${value}`);
      opParams.push(pathOf(key), ...valueParams);
    }
  }
  params.push(...opParams);
  if (pairs.length > 0) sql = `JSON_SET(${sql}, ${pairs.join(', ')})`;
  if (replaces.length > 0) {
    sql = `JSON_REPLACE(${sql}, ${replaces.join(', ')})`;
    params.push(...replaceParams);
  }
  return { sql, params };
}

/** Merge runs of the same op on one key (push+push is one push, increment+increment one sum), so the nested SQL stays small. */
function fold(ops: readonly AtomicOp[]): AtomicOp[] {
  const out: AtomicOp[] = [];
  for (const op of ops) {
    const last = out.at(-1);
    if (last?.op === 'push' && op.op === 'push')
      out[out.length - 1] = { ...last, values: [...last.values, ...op.values] };
    else if (last?.op === 'pull' && op.op === 'pull')
      out[out.length - 1] = { ...last, values: [...last.values, ...op.values] };
    else if (
      last?.op === 'increment' &&
      op.op === 'increment' &&
      Number.isFinite(last.by + op.by) // else applied one by one (each past-a-double sum is skipped)
    )
      out[out.length - 1] = { ...last, by: last.by + op.by };
    else out.push(op);
  }
  return out;
}
