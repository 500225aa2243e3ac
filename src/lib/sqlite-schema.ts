// The SQLite store's DDL and its version, re-exported by `tessera-session/sqlite`.

/**
 * The schema version this release writes; a later release migrates from it.
 *
 * @example
 * ```ts
 * console.log(`tessera SQLite schema v${SQLITE_SCHEMA_VERSION}`);
 * ```
 */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * The DDL for the session table, for teams that apply their schema by hand.
 *
 * @example
 * ```ts
 * console.log(sqliteSchema('tessera_sessions'));
 * ```
 */
export function sqliteSchema(table = 'tessera_sessions'): string {
  return `CREATE TABLE IF NOT EXISTS "${table}" (
  key TEXT PRIMARY KEY,             -- SHA-256 of the token, base64url: the token itself is never stored
  data TEXT NOT NULL,               -- JSON
  user_id TEXT,
  created_at INTEGER NOT NULL,      -- epoch ms
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  meta TEXT NOT NULL                -- JSON: user agent, IP
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);
CREATE INDEX IF NOT EXISTS "${table}_user_id" ON "${table}" (user_id) WHERE user_id IS NOT NULL;
-- v2: "sign out everywhere" marks the user's sessions here (a small table, written in ms) and
-- they are deleted from the big one in batches afterwards; every read skips a marked key.
CREATE TABLE IF NOT EXISTS "${table}_revoked" (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS "${table}_revoked_on_delete" AFTER DELETE ON "${table}"
  BEGIN DELETE FROM "${table}_revoked" WHERE key = old.key; END;
CREATE TRIGGER IF NOT EXISTS "${table}_revoked_on_insert" AFTER INSERT ON "${table}"
  BEGIN DELETE FROM "${table}_revoked" WHERE key = new.key; END;
CREATE TRIGGER IF NOT EXISTS "${table}_revoked_on_replace" AFTER UPDATE OF created_at ON "${table}"
  BEGIN DELETE FROM "${table}_revoked" WHERE key = new.key; END;
CREATE TABLE IF NOT EXISTS tessera_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO tessera_schema (name, version) VALUES ('${table}', ${SQLITE_SCHEMA_VERSION})
  ON CONFLICT (name) DO UPDATE SET version = max(version, excluded.version);`;
}
