/**
 * postgresStore's `synchronousCommit`: which writes commit without waiting for the WAL flush.
 * A trigger on the store's own table records `current_setting('synchronous_commit')` inside the
 * transaction of every write, as PostgreSQL will apply it at commit: data deltas and touches are
 * `off` by default, while creates, regenerates (login, logout) and destroys stay `on`, and
 * `synchronousCommit: 'on'` keeps every write durable.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../src/store.ts';
import { postgresStore } from '../src/stores/postgres.ts';
import { DATABASE_URL, serviceUnavailable } from './support/services.ts';

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, connectionTimeoutMillis: 3000 });
pool.on('error', () => {});
const unavailable = await serviceUnavailable('PostgreSQL', () => pool.query('SELECT 1'));
const schema = `tessera_durability_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  if (!unavailable) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

const record = (now: number): SessionRecord => ({
  data: { cart: ['sku-1'] },
  userId: null,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + 60_000,
  absoluteExpiresAt: now + 600_000,
  meta: {},
});

/** A store on its own table, with a trigger logging each write's synchronous_commit. */
async function logged(table: string, options: { synchronousCommit?: 'off' | 'on' } = {}) {
  const store = postgresStore({ pool, schema, table, sweepInterval: 0, ...options });
  await store.get('none', Date.now()); // creates schema and table
  const log = `"${schema}"."${table}_log"`;
  await pool.query(`CREATE TABLE ${log} (op text, setting text)`);
  await pool.query(`CREATE FUNCTION "${schema}"."${table}_note"() RETURNS trigger AS $$
    BEGIN
      INSERT INTO ${log} VALUES (TG_OP, current_setting('synchronous_commit'));
      RETURN NULL;
    END $$ LANGUAGE plpgsql`);
  await pool.query(`CREATE TRIGGER note AFTER INSERT OR UPDATE OR DELETE ON "${schema}"."${table}"
    FOR EACH ROW EXECUTE FUNCTION "${schema}"."${table}_note"()`);
  const settings = async () => {
    const { rows } = await pool.query<{ op: string; setting: string }>(
      `DELETE FROM ${log} RETURNING op, setting`,
    );
    return rows.map((r) => `${r.op} ${r.setting}`);
  };
  return { store, settings };
}

describe.skipIf(unavailable !== null)('postgresStore synchronousCommit', () => {
  it('by default, data deltas and touches commit without waiting for the disk; the rest waits', async () => {
    const { store, settings } = await logged('lazy');
    const now = Date.now();
    await store.create('k1', record(now));
    expect(await settings()).toEqual(['INSERT on']);
    expect(await store.update('k1', { set: { lang: 'fr' } }, now)).not.toBeNull();
    expect(await settings()).toEqual(['UPDATE off']);
    // The request path's write (apply: the same statement, nothing sent back).
    expect(await store.apply!('k1', { set: { lang: 'de' } }, now)).toBe(true);
    expect(await settings()).toEqual(['UPDATE off']);
    expect((await store.get('k1', now))?.data['lang']).toBe('de');
    expect(await store.touch('k1', now + 90_000, now, now)).not.toBeNull();
    expect(await settings()).toEqual(['UPDATE off']);
    // A login or logout moves the key: it must survive a crash of the database.
    expect(await store.regenerate('k1', 'k2', { delta: {}, userId: 'u-1' }, now)).not.toBeNull();
    expect(await settings()).toEqual(['UPDATE on']);
    expect(await store.destroy('k2')).toBe(true);
    expect(await settings()).toEqual(['DELETE on']);
    // The setting was the statement's own transaction's: the connection is back to the default.
    const { rows } = await pool.query<{ s: string }>(
      `SELECT current_setting('synchronous_commit') AS s`,
    );
    expect(rows[0]!.s).toBe('on');
  });

  it("synchronousCommit: 'on' makes every write wait", async () => {
    const { store, settings } = await logged('durable', { synchronousCommit: 'on' });
    const now = Date.now();
    await store.create('k1', record(now));
    await store.update('k1', { set: { lang: 'fr' } }, now);
    await store.apply!('k1', { set: { lang: 'de' } }, now);
    await store.touch('k1', now + 90_000, now, now);
    expect(await settings()).toEqual(['INSERT on', 'UPDATE on', 'UPDATE on', 'UPDATE on']);
  });

  it('a value other than on or off is refused at construction', () => {
    expect(() => postgresStore({ pool, schema, synchronousCommit: 'local' as never })).toThrowError(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    );
  });
});
