/**
 * The MySQL store's tables: the DDL of schema v2 and the upgrade from v1, applied on start-up.
 * @internal
 */
import type { Pool } from 'mysql2/promise';
import { SessionConfigError } from '../errors.ts';

/**
 * The schema version this release writes (v2: the user index holds the user id's SHA-256 in full,
 * and revocations mark keys in `<table>_revoked`); a later release migrates from it.
 */
export const SCHEMA_VERSION = 2;

/**
 * v2's user column and index. The user id's SHA-256 is a computed column (virtual: no bytes in the
 * row), and its index holds the expiry and last-seen times and the key (InnoDB adds the primary
 * key), so the user's keys, and a login past `maxSessionsPerUser`'s oldest sessions, come from the
 * index alone. v1 indexed the first 191 characters of `user_id`, so every lookup read the user's
 * rows to check the rest: one page per session once the table outgrew the buffer pool.
 */
const USER_HASH_COLUMN = 'user_hash BINARY(32) AS (UNHEX(SHA2(user_id, 256))) VIRTUAL';
const userIndex = (table: string) =>
  `INDEX \`${table}_user\` (user_hash, expires_at, last_seen_at)`;
/** The condition on the user index for the user id given as the next parameter. */
export const USER_IS = 'user_hash = UNHEX(SHA2(CONVERT(? USING utf8mb4), 256))';

/** The DDL statements, in order: the sessions table, then the revocation marks. */
export function schemaStatements(table: string): string[] {
  // Binary collations: keys are base64url (case matters) and user ids are compared exactly; the
  // default case-insensitive collations would make two different keys one row.
  // `data` is LONGTEXT checked as JSON (MariaDB's JSON type is exactly that): it keeps the
  // text, so object keys come back in the order they were written.
  return [
    `CREATE TABLE IF NOT EXISTS \`${table}\` (
  \`key\` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, -- SHA-256 of the token, base64url
  data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (JSON_VALID(data)),
  user_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, -- any length
  created_at BIGINT NOT NULL,           -- epoch ms
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  absolute_expires_at BIGINT NOT NULL,
  meta LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ${USER_HASH_COLUMN},
  INDEX \`${table}_expires_at\` (expires_at),
  ${userIndex(table)}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='tessera-session schema v${SCHEMA_VERSION}'`,
    // A revocation marks its keys here and resolves; every statement skips a marked key, and the
    // rows are deleted afterwards with their marks, a batch at a time.
    `CREATE TABLE IF NOT EXISTS \`${table}_revoked\` (
  \`key\` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='tessera-session schema v${SCHEMA_VERSION}: revoked keys'`,
  ];
}

/** From v1 to v2 (the marks table comes from {@link schemaStatements}): online, in place. */
export function upgradeStatement(table: string): string {
  return `ALTER TABLE \`${table}\` ADD COLUMN ${USER_HASH_COLUMN}, ADD ${userIndex(table)},
  DROP INDEX \`${table}_user_id\`, COMMENT = 'tessera-session schema v${SCHEMA_VERSION}'`;
}

/**
 * Create the tables when `createTable` (and upgrade a v1 table in place); without it, refuse a v1
 * table with the statements that upgrade it. A missing table is left to the first statement's error.
 */
export async function ensureSchema(
  pool: Pool,
  table: string,
  createTable: boolean,
  statementTimeout: number,
): Promise<void> {
  // CREATE TABLE IF NOT EXISTS takes a metadata lock: processes starting together do not race.
  if (createTable)
    for (const sql of schemaStatements(table)) await pool.query({ sql, timeout: 10_000 });
  const [found] = await pool.query({
    sql: `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?) AND COLUMN_NAME IN ('key', 'user_hash')`,
    values: [table, `${table}_revoked`],
    timeout: statementTimeout,
  });
  const has = (t: string, c: string) =>
    (found as { t: string; c: string }[]).some((row) => row.t === t && row.c === c);
  if (!has(table, 'key')) return; // no table (createTable: false): its statements say so
  if (has(table, 'user_hash') && has(`${table}_revoked`, 'key')) return;
  if (!createTable) {
    throw new SessionConfigError(
      `mysqlStore: table ${table} is schema v1 and this release needs v${SCHEMA_VERSION}: run\n${upgradeStatement(table)};\n${schemaStatements(table)[1]};\n(or leave createTable at true, which does it on start-up)`,
    );
  }
  // v1 to v2, in place: the column is virtual (nothing rewritten) and the index is built while
  // reads and writes go on. Processes starting together may both try: one finds it done.
  try {
    await pool.query({ sql: upgradeStatement(table), timeout: 3_600_000 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (!['ER_DUP_FIELDNAME', 'ER_DUP_KEYNAME', 'ER_CANT_DROP_FIELD_OR_KEY'].includes(code ?? ''))
      throw err;
  }
}
