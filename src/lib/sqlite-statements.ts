/**
 * The SQLite store's statements, prepared once on its connection (and again after the table is
 * recreated), and the batch sizes its purge and per-user deletes go in.
 * @internal
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

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
 * A user's sessions one revocation statement deletes: about 5 ms each (a user's sessions are
 * spread over the table, a page written per row), against 0.6 s for 10 000 in one statement.
 */
export const USER_BATCH = 250;

/** The statements of `sqliteStore` on `"table"`, prepared on `db`. */
export function sqliteStatements(db: DatabaseSync, table: string): Record<string, StatementSync> {
  const columns =
    'key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta';
  return {
    get: db.prepare(`SELECT ${columns} FROM "${table}" WHERE key = ? AND expires_at > ?`),
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
         WHERE "${table}".expires_at <= ?`,
    ),
    write: db.prepare(
      `UPDATE "${table}" SET data = ?, last_seen_at = ?, expires_at = ? WHERE key = ?`,
    ),
    touch: db.prepare(
      `UPDATE "${table}" SET expires_at = ?, last_seen_at = ? WHERE key = ? AND expires_at > ? RETURNING ${columns}`,
    ),
    destroy: db.prepare(`DELETE FROM "${table}" WHERE key = ?`),
    byUser: db.prepare(`SELECT ${columns} FROM "${table}" WHERE user_id = ? AND expires_at > ?`),
    move: db.prepare(
      `UPDATE "${table}" SET key = ?, data = ?, user_id = ?, last_seen_at = ?, expires_at = ? WHERE key = ?`,
    ),
    // A batch at a time: each of a user's sessions sits on its own page of the key's b-tree.
    destroyByUser: db.prepare(
      `DELETE FROM "${table}" WHERE key IN (SELECT key FROM "${table}" WHERE user_id = ? AND key IS NOT ? LIMIT ${USER_BATCH}) RETURNING key`,
    ),
    destroyByUserKeys: db.prepare(
      `DELETE FROM "${table}" WHERE user_id = ? AND key IS NOT ? AND key IN (SELECT value FROM json_each(?)) RETURNING key`,
    ),
    // The subquery walks the user index; only keys are read, never a record.
    destroySurplus: db.prepare(
      `DELETE FROM "${table}" WHERE key IN (SELECT key FROM "${table}" WHERE user_id = ? AND expires_at > ? AND key IS NOT ?
           ORDER BY last_seen_at DESC, key LIMIT -1 OFFSET ?) RETURNING key`,
    ),
    purge: db.prepare(purgeSql(table)),
    ping: db.prepare('SELECT 1 AS ok'),
    // Prepared once: `db.exec` parses its SQL on every call (~2 µs of a 23 µs update).
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
}
