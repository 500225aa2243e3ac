// The PostgreSQL store's DDL (table, indexes, the delta function) and its version, re-exported
// by `tessera-session/postgres`.

/**
 * The schema version this release writes; a later release migrates from it.
 *
 * @example
 * ```ts
 * console.log(`tessera PostgreSQL schema v${POSTGRES_SCHEMA_VERSION}`);
 * ```
 */
export const POSTGRES_SCHEMA_VERSION = 3;

/**
 * The DDL, for teams that apply their schema by hand (`createTable: false`).
 *
 * @example
 * ```ts
 * console.log(postgresSchema('public', 'tessera_sessions'));
 * ```
 */
export function postgresSchema(schema = 'public', table = 'tessera_sessions'): string {
  const t = `"${schema}"."${table}"`;
  return `CREATE SCHEMA IF NOT EXISTS "${schema}";
CREATE TABLE IF NOT EXISTS ${t} (
  key text PRIMARY KEY,                 -- SHA-256 of the token, base64url: the token is never stored
  data jsonb NOT NULL,                  -- each key's value as its JSON text (a jsonb string)
  user_id text,
  created_at bigint NOT NULL,           -- epoch ms
  last_seen_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  meta jsonb NOT NULL,
  version bigint NOT NULL DEFAULT 0     -- one more on every write: cachedStore orders its cache by it
);
-- Schema 3: a table of schema 2 gains the version column (with a default: no rewrite). Looked up
-- first, so that a start with the column in place takes no lock on the table.
DO $migrate$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = '${schema}' AND table_name = '${table}' AND column_name = 'version') THEN
    ALTER TABLE ${t} ADD COLUMN version bigint NOT NULL DEFAULT 0;
  END IF;
END $migrate$;
CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at);
CREATE INDEX IF NOT EXISTS "${table}_user_id" ON ${t} (user_id) WHERE user_id IS NOT NULL;
-- data maps each key to its value's JSON text (a jsonb string), so a value comes back exactly as
-- written (jsonb alone would reorder object keys). push / pull / increment work on that text,
-- applied to the current value inside the UPDATE that holds the row lock.
CREATE OR REPLACE FUNCTION "${schema}".tessera_apply_ops(data jsonb, ops jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  op jsonb;
  k text;
  cur text;
  vals text;
  sum numeric;
BEGIN
  FOR op IN SELECT value FROM jsonb_array_elements(ops) LOOP
    k := op->>'key';
    cur := data->>k;
    vals := op->>'values';
    IF op->>'op' = 'push' THEN
      IF left(cur, 1) = '[' THEN
        IF cur = '[]' THEN cur := vals; ELSIF vals <> '[]' THEN cur := left(cur, -1) || ',' || substr(vals, 2); END IF;
      ELSE
        cur := vals;
      END IF;
      data := jsonb_set(data, ARRAY[k], to_jsonb(cur));
    ELSIF op->>'op' = 'pull' THEN
      IF left(cur, 1) = '[' THEN
        -- Equal as canonical JSON: same text, or (objects and arrays) equal as jsonb, which
        -- ignores key order. Texts jsonb refuses (an escaped NUL, lone surrogates) compare by text only.
        cur := COALESCE((SELECT '[' || string_agg(e.value::text, ',' ORDER BY e.ordinality) || ']'
          FROM json_array_elements(cur::json) WITH ORDINALITY AS e
          WHERE NOT EXISTS (SELECT 1 FROM json_array_elements(vals::json) AS v
            WHERE v.value::text = e.value::text
               OR (left(v.value::text, 1) IN ('{', '[') AND left(e.value::text, 1) = left(v.value::text, 1)
                   AND v.value::text !~* '\\\\u(0000|d[89a-f])' AND e.value::text !~* '\\\\u(0000|d[89a-f])'
                   AND v.value::jsonb = e.value::jsonb))), '[]');
        data := jsonb_set(data, ARRAY[k], to_jsonb(cur));
      END IF;
    ELSIF op->>'op' = 'increment' THEN
      IF cur ~ '^-?[0-9]' THEN sum := cur::numeric; ELSE sum := 0; END IF;
      sum := sum + (op->>'by')::numeric;
      -- A result a double cannot hold is never written: the value stays as it was.
      IF abs(sum) <= 1.7976931348623157e308 THEN
        data := jsonb_set(data, ARRAY[k], to_jsonb(((CASE WHEN cur ~ '^-?[0-9]' THEN cur::float8 ELSE 0 END) + (op->>'by')::float8)::text));
      END IF;
    END IF;
  END LOOP;
  RETURN data;
END
$fn$;
CREATE TABLE IF NOT EXISTS "${schema}".tessera_schema (name text PRIMARY KEY, version integer NOT NULL);
INSERT INTO "${schema}".tessera_schema (name, version) VALUES ('${table}', ${POSTGRES_SCHEMA_VERSION})
  ON CONFLICT (name) DO UPDATE SET version = GREATEST("${schema}".tessera_schema.version, EXCLUDED.version);`;
}
