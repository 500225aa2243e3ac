/**
 * The PostgreSQL store's statements, each a `pg` query config (without its values) prepared under
 * a name of its own: `tessera_<what>_<schema>_<table>`, cut to PostgreSQL's 63 characters.
 * @internal
 */

/** The statements of `postgresStore` on `"schema"."table"`. */
export function postgresStatements(schema: string, table: string, synchronousCommit: 'off' | 'on') {
  const t = `"${schema}"."${table}"`;
  const columns =
    'key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta';
  // What a read or a write sends back: the row and its version (src/lib/record-version.ts).
  const returned = `${columns}, version`;
  const name = (what: string) => `tessera_${what}_${schema}_${table}`.slice(0, 63);
  // synchronous_commit is read when the transaction commits, so setting it inside the statement
  // (is_local: this transaction only) applies to the statement's own implicit transaction: still
  // one round trip. The subquery runs before the row is written.
  const lazy = synchronousCommit === 'off';
  const relaxed = lazy
    ? `FROM (SELECT set_config('synchronous_commit', 'off', true)) AS durability`
    : '';
  const lazyName = (what: string) => name(lazy ? `${what}_l` : what);
  const write = `UPDATE ${t} SET
               data = "${schema}".tessera_apply_ops((data - $2::text[]) || $3::jsonb, $4::jsonb),
               expires_at = COALESCE($5, expires_at), last_seen_at = COALESCE($6, last_seen_at),
               version = version + 1
             ${relaxed}
             WHERE key = $1 AND expires_at > $7 AND $8::float8 > (extract(epoch from clock_timestamp()) * 1000)`;
  // The writes of one turn (src/lib/postgres-batches.ts) in one statement, each its own delta on
  // its own row, `i` its place. The rows are locked first, without waiting (NOWAIT): a batch that
  // finds a row locked fails at once and its writes go one by one, so a statement holding several
  // row locks never waits for another (no deadlock with a revocation or another batch).
  const writeMany = `WITH q AS (
               SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i int, key text, unset text[], "set" jsonb,
                 ops jsonb, expires_at bigint, last_seen_at bigint, now bigint, deadline float8)
             ), locked AS (
               SELECT t.key FROM ${t} t JOIN q ON t.key = q.key FOR NO KEY UPDATE OF t NOWAIT
             )
             UPDATE ${t} t SET
               data = "${schema}".tessera_apply_ops((t.data - q.unset) || q."set", q.ops),
               expires_at = COALESCE(q.expires_at, t.expires_at),
               last_seen_at = COALESCE(q.last_seen_at, t.last_seen_at),
               version = t.version + 1
             FROM q${lazy ? `, (SELECT set_config('synchronous_commit', 'off', true)) AS durability` : ''}
             WHERE t.key = q.key AND t.key IN (SELECT key FROM locked) AND t.expires_at > q.now
               AND q.deadline > (extract(epoch from clock_timestamp()) * 1000)`;
  return {
    get: {
      name: name('get'),
      text: `SELECT ${returned} FROM ${t} WHERE key = $1 AND expires_at > $2`,
    },
    // The gets of one turn (src/lib/turn-batch.ts) in one statement: `i` is each get's place.
    getMany: {
      name: name('get_many'),
      text: `SELECT q.i, ${returned.replace(/(\w+)/g, 't.$1')}
             FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS q(key, now, i)
             JOIN ${t} t ON t.key = q.key AND t.expires_at > q.now`,
    },
    create: {
      name: name('create'),
      text: `INSERT INTO ${t} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, user_id = EXCLUDED.user_id, created_at = EXCLUDED.created_at,
               last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at,
               absolute_expires_at = EXCLUDED.absolute_expires_at, meta = EXCLUDED.meta,
               version = ${t}.version + 1
             RETURNING version`,
    },
    // The creates of one turn (src/lib/postgres-batches.ts) in one statement and one commit,
    // each row as `create` writes it; `i` is each create's place.
    createMany: {
      name: name('create_many'),
      text: `INSERT INTO ${t} (${columns})
             SELECT key, data, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, meta
             FROM jsonb_to_recordset($1::jsonb) AS x(i int, key text, data jsonb, user_id text,
               created_at bigint, last_seen_at bigint, expires_at bigint, absolute_expires_at bigint, meta jsonb)
             ORDER BY i
             ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, user_id = EXCLUDED.user_id, created_at = EXCLUDED.created_at,
               last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at,
               absolute_expires_at = EXCLUDED.absolute_expires_at, meta = EXCLUDED.meta,
               version = ${t}.version + 1
             RETURNING key, version`,
    },
    // Insert unless a live row has the key (an expired one is replaced): one atomic statement.
    insert: {
      name: name('insert'),
      text: `INSERT INTO ${t} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, user_id = EXCLUDED.user_id, created_at = EXCLUDED.created_at,
               last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at,
               absolute_expires_at = EXCLUDED.absolute_expires_at, meta = EXCLUDED.meta,
               version = ${t}.version + 1
             WHERE ${t}.expires_at <= $9
             RETURNING version`,
    },
    update: {
      name: lazyName('update'),
      text: `${write} RETURNING ${returned}`,
    },
    // The batches of writeMany above: which writes found their row alive, or the rows written.
    applyMany: { name: lazyName('apply_many'), text: `${writeMany} RETURNING q.i` },
    // ... and, for a cache in front (src/lib/record-version.ts), each row's version after it.
    applyVersionMany: {
      name: lazyName('apply_version_many'),
      text: `${writeMany} RETURNING q.i, t.version`,
    },
    updateMany: {
      name: lazyName('update_many'),
      text: `${writeMany} RETURNING q.i, ${returned.replace(/(\w+)/g, 't.$1')}`,
    },
    // The request path's write: the same statement, nothing sent back (the row count says alive).
    apply: {
      name: lazyName('apply'),
      text: write,
    },
    applyVersion: { name: lazyName('apply_version'), text: `${write} RETURNING version` },
    // One statement: the row lock, the alive check, the delta on the current value and the move
    // to the new key (a primary-key update) are one atomic step.
    regenerate: {
      name: name('regenerate'),
      text: `UPDATE ${t} SET key = $9,
               data = "${schema}".tessera_apply_ops((data - $2::text[]) || $3::jsonb, $4::jsonb),
               expires_at = COALESCE($5, expires_at), last_seen_at = COALESCE($6, last_seen_at),
               user_id = $10, version = version + 1
             WHERE key = $1 AND expires_at > $7 AND $8::float8 > (extract(epoch from clock_timestamp()) * 1000)
             RETURNING ${returned}`,
    },
    touch: {
      name: lazyName('touch'),
      text: `UPDATE ${t} SET expires_at = $2, last_seen_at = $3, version = version + 1
             ${relaxed}
             WHERE key = $1 AND expires_at > $4 AND $5::float8 > (extract(epoch from clock_timestamp()) * 1000)
             RETURNING ${returned}`,
    },
    destroy: { name: name('destroy'), text: `DELETE FROM ${t} WHERE key = $1` },
    // `expires_at + 0`: the test stays off the expiry index. A user has a handful of sessions,
    // but before the table's first ANALYZE the planner guessed thousands per user and ANDed in a
    // scan of the whole expiry index (15 ms a call at 200 000 sessions, instead of 0.1 ms).
    byUser: {
      name: name('by_user'),
      text: `SELECT ${returned} FROM ${t} WHERE user_id = $1 AND expires_at + 0 > $2`,
    },
    destroyByUser: {
      name: name('destroy_user'),
      text: `DELETE FROM ${t} WHERE user_id = $1 AND ($2::text IS NULL OR key <> $2)
               AND ($3::text[] IS NULL OR key = ANY($3)) RETURNING key`,
    },
    // Only keys are read (through the user index), never a record; `user_id` is checked again on
    // the row deleted, so a session moved to another user meanwhile is left alone.
    destroySurplus: {
      name: name('destroy_surplus'),
      text: `DELETE FROM ${t} WHERE user_id = $1 AND key IN (SELECT key FROM ${t}
               WHERE user_id = $1 AND expires_at + 0 > $2 AND ($3::text IS NULL OR key <> $3)
               ORDER BY last_seen_at DESC, key OFFSET $4) RETURNING key`,
    },
    purge: { name: name('purge'), text: `DELETE FROM ${t} WHERE expires_at <= $1` },
  };
}
