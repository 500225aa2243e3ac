/**
 * The SQLite store's statements, prepared once on its connection (and again after the table is
 * recreated), and the batch sizes its purge and per-user deletes go in.
 * @internal
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SessionDelta, SessionRecord } from '../store.ts';

/** Rows one purge statement deletes: a few ms of write lock each. */
export const PURGE_BATCH = 200;
/**
 * One purge batch: up to PURGE_BATCH rows expired at `?`. Also run by the store's thread on its
 * own connection (src/stores/sqlite-checkpoint.ts).
 */
export function purgeSql(table: string): string {
  return `DELETE FROM "${table}" WHERE key IN (SELECT key FROM "${table}" WHERE expires_at <= ? LIMIT ${PURGE_BATCH})`;
}
/**
 * One batch of deletes of revoked rows (marked in `"table_revoked"` by a revocation): a row
 * deleted from the big table takes its mark with it (a trigger). The `?` (any value) is only there
 * because the store's thread runs every batch statement with one parameter.
 */
export function reapSql(table: string): string {
  return `DELETE FROM "${table}" WHERE key IN (SELECT key FROM "${table}_revoked" WHERE ? IS NOT NULL LIMIT ${PURGE_BATCH})`;
}
/**
 * Keys one revocation statement marks. Marking is cheap (a small table), so this only bounds how
 * long one statement holds the event loop: ~10 ms for 10 000 (measured), where deleting them
 * took 110–280 ms at 200 000 sessions in the table (a user's sessions are spread over it, one
 * page written per row).
 */
export const USER_BATCH = 2000;

/** A row as the statements select it (`columns`). */
export interface Row {
  key: string;
  data: string;
  user_id: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  meta: string;
}

/** The record a row holds. */
export function toRecord(row: Row): SessionRecord {
  return {
    data: JSON.parse(row.data),
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    meta: JSON.parse(row.meta),
  };
}

/**
 * A data key the one-statement write can name in a JSON path (`$."key"`): SQLite's path syntax has
 * no escape inside the quotes, so a key with a quote, a backslash or a control character goes
 * through the transaction instead (same result, a few statements more).
 */
function isPathKey(key: string): boolean {
  if (key.length === 0 || key.length > 200) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x22 /* " */ || c === 0x5c /* \\ */) return false;
  }
  return true;
}

/**
 * The request path's write (`apply`) as one statement: the keys in `unset` removed and those in
 * `set` written (each path `$."key"` a parameter, each value JSON text read by `json()`), the
 * deadline moved when the delta moves it, only while the row is alive and not revoked. One
 * statement is one implicit transaction: atomic against every other connection to the file.
 * Parameters: unset paths, then (path, value) pairs, last seen, expires, key, now.
 */
function applySql(table: string, unset: number, set: number): string {
  let data = 'data';
  if (unset > 0) data = `json_remove(${data}${', ?'.repeat(unset)})`;
  if (set > 0) data = `json_set(${data}${', ?, json(?)'.repeat(set)})`;
  const t = `"${table}"`;
  return `UPDATE ${t} SET data = ${data}, last_seen_at = coalesce(?, last_seen_at), expires_at = coalesce(?, expires_at)
    WHERE key = ? AND expires_at > ? AND NOT EXISTS (SELECT 1 FROM "${table}_revoked" r WHERE r.key = ${t}.key)`;
}

/**
 * The one-statement write of a delta on `db`, or `null` when the delta needs the transaction
 * (atomic operations, a key no JSON path can name). One statement per shape (how many keys it
 * removes and sets), prepared on first use.
 */
export function sqliteApply(
  db: DatabaseSync,
  table: string,
): (key: string, delta: SessionDelta, now: number) => { changes: number | bigint } | null {
  const prepared = new Map<string, StatementSync>();
  return (key, delta, now) => {
    const unset = delta.unset ?? [];
    const set = delta.set ? Object.keys(delta.set) : [];
    if ((delta.ops?.length ?? 0) > 0 || !unset.every(isPathKey) || !set.every(isPathKey)) {
      return null;
    }
    const params: (string | number | null)[] = unset.map((k) => `$."${k}"`);
    for (const k of set) params.push(`$."${k}"`, JSON.stringify(delta.set![k]));
    params.push(delta.lastSeenAt ?? null, delta.expiresAt ?? null, key, now);
    const shape = `${unset.length}:${set.length}`;
    let statement = prepared.get(shape);
    if (!statement)
      prepared.set(shape, (statement = db.prepare(applySql(table, unset.length, set.length))));
    return statement.run(...params);
  };
}

/** The statements of `sqliteStore` on `"table"`, prepared on `db`. */
export function sqliteStatements(db: DatabaseSync, table: string): Record<string, StatementSync> {
  const columns =
    'key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta';
  const revoked = `"${table}_revoked"`;
  /** Not marked by a revocation (whose rows are deleted a batch at a time afterwards). */
  const alive = (t: string) => `NOT EXISTS (SELECT 1 FROM ${revoked} r WHERE r.key = ${t}.key)`;
  const t = `"${table}"`;
  return {
    get: db.prepare(`SELECT ${columns} FROM ${t} WHERE key = ? AND expires_at > ? AND ${alive(t)}`),
    insert: db.prepare(
      `INSERT OR REPLACE INTO "${table}" (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Insert unless a live row has the key (an expired one is replaced): one atomic statement.
    insertIfAbsent: db.prepare(
      `INSERT INTO "${table}" (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET data = excluded.data, user_id = excluded.user_id,
           created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
           expires_at = excluded.expires_at, absolute_expires_at = excluded.absolute_expires_at,
           meta = excluded.meta
         WHERE ${t}.expires_at <= ? OR NOT ${alive(t)}`,
    ),
    write: db.prepare(
      `UPDATE "${table}" SET data = ?, last_seen_at = ?, expires_at = ? WHERE key = ?`,
    ),
    touch: db.prepare(
      `UPDATE ${t} SET expires_at = ?, last_seen_at = ? WHERE key = ? AND expires_at > ? AND ${alive(t)} RETURNING ${columns}`,
    ),
    // A revoked row is gone already: deleting it reports nothing.
    destroy: db.prepare(`DELETE FROM ${t} WHERE key = ? AND ${alive(t)}`),
    byUser: db.prepare(
      `SELECT ${columns} FROM ${t} WHERE user_id = ? AND expires_at > ? AND ${alive(t)}`,
    ),
    move: db.prepare(
      `UPDATE "${table}" SET key = ?, data = ?, user_id = ?, last_seen_at = ?, expires_at = ? WHERE key = ?`,
    ),
    // Revocations mark keys (the user index gives them without reading a record); the rows go
    // afterwards, a batch at a time (reap): each of a user's sessions sits on its own page.
    destroyByUser: db.prepare(
      `INSERT INTO ${revoked} (key) SELECT key FROM ${t} WHERE user_id = ? AND key IS NOT ? AND ${alive(t)} LIMIT ${USER_BATCH} RETURNING key`,
    ),
    destroyByUserKeys: db.prepare(
      `INSERT INTO ${revoked} (key) SELECT key FROM ${t} WHERE user_id = ? AND key IS NOT ? AND ${alive(t)}
         AND key IN (SELECT value FROM json_each(?)) RETURNING key`,
    ),
    // The subquery walks the user index; only keys are read, never a record.
    destroySurplus: db.prepare(
      `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE user_id = ? AND expires_at > ? AND key IS NOT ? AND ${alive(t)}
           ORDER BY last_seen_at DESC, key LIMIT -1 OFFSET ?) RETURNING key`,
    ),
    purge: db.prepare(purgeSql(table)),
    reap: db.prepare(reapSql(table)),
    ping: db.prepare('SELECT 1 AS ok'),
    // Prepared once: `db.exec` parses its SQL on every call (~2 µs of a 23 µs update).
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
}
