/**
 * The MySQL store's revocation: "sign out everywhere" marks the user's keys in `<table>_revoked`
 * and resolves; every statement skips a marked key from then on (the SQL fragments below), and
 * the rows go afterwards, each with its mark (the reap). Per flavour: MariaDB marks and lists in
 * one `INSERT … RETURNING`, MySQL 8 in three statements.
 * @internal
 */
import { USER_IS } from './mysql-schema.ts';
import type { Flavour } from './mysql-sql.ts';
import { singleFlight } from './single-flight.ts';

/** How the revocation sends a statement: the store's `run` (bounded, typed errors, retries). */
export type Run = <R>(
  what: string,
  sql: string,
  values: unknown[],
  idempotent?: boolean,
  serial?: boolean,
) => Promise<R>;

export interface RevocationOptions {
  readonly table: string;
  readonly run: Run;
  /** The server's flavour, known once set-up is done ({@link RevocationOptions.flavourKnown}). */
  readonly flavour: () => Flavour;
  readonly flavourKnown: (what: string) => Promise<void>;
  readonly purgeBatch: number;
  readonly closed: () => boolean;
}

/** `?, ?, …` for `n` values. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export function mysqlRevocation({
  table,
  run,
  flavour,
  flavourKnown,
  purgeBatch,
  closed,
}: RevocationOptions) {
  const t = `\`${table}\``;
  const r = `\`${table}_revoked\``;
  const k = `${t}.\`key\``;

  /**
   * Delete the rows revocations marked, each with its mark in one statement, `purgeBatch` at a
   * time. A revocation landing while a reap runs has it go round once more.
   */
  const reaper = singleFlight(async () => {
    for (;;) {
      const marks = await run<{ key: string }[]>(
        'revokeUserSessions',
        `SELECT \`key\` FROM ${r} LIMIT ${purgeBatch}`,
        [],
        true,
      );
      if (marks.length === 0) return;
      await run(
        'revokeUserSessions',
        `DELETE ${t}, m FROM ${r} AS m LEFT JOIN ${t} ON ${k} = m.\`key\` WHERE m.\`key\` IN (${placeholders(marks.length)})`,
        marks.map((row) => row.key),
      );
      if (marks.length < purgeBatch) return;
    }
  }, closed);

  /**
   * Mark the user's keys (but `except`; only among `keys` when given); resolves those newly
   * marked and starts the reap. Read from the user index alone, no row touched: 10 000 sessions
   * in a table the buffer pool does not hold took 1 155 ms when the rows were deleted here, one
   * page each (BENCHMARKS.md).
   */
  async function revoke(
    userId: string,
    except: string | undefined,
    keys: readonly string[] | undefined,
  ): Promise<string[]> {
    const only = keys ? ` AND \`key\` IN (${placeholders(keys.length)})` : '';
    const params = [userId, except ?? '', ...(keys ?? [])];
    const mine = `FROM ${t} WHERE ${USER_IS} AND \`key\` <> ?${only}`;
    await flavourKnown('destroyByUser');
    let revoked: string[];
    if (flavour() === 'mariadb') {
      // One statement, the keys marked come back with it (a session the user creates meanwhile
      // is either marked and listed, or untouched). A key marked already is a duplicate IGNORE
      // skips, and RETURNING lists only the rows inserted (cheaper than excluding marked keys in
      // the SELECT, which reads the marks table it writes: 20 ms in 70).
      const rows = await run<{ key: string }[]>(
        'destroyByUser',
        `INSERT IGNORE INTO ${r} (\`key\`) SELECT \`key\` ${mine} RETURNING \`key\``,
        params,
        false,
        true,
      );
      revoked = rows.map((row) => row.key);
    } else {
      // MySQL has no INSERT … RETURNING: the keys already marked, the marks, then the user's
      // marked keys but those. Listing the keys first and marking exactly those would miss one a
      // regenerate moved meanwhile.
      const user = `${USER_IS} AND ${k} <> ?${only.replace('`key`', k)}`;
      const markedOfUser = `SELECT ${k} FROM ${t} JOIN ${r} AS m ON m.\`key\` = ${k} WHERE ${user}`;
      const before = await run<{ key: string }[]>('destroyByUser', markedOfUser, params, true);
      const earlier = new Set(before.map((row) => row.key));
      await run(
        'destroyByUser',
        `INSERT IGNORE INTO ${r} (\`key\`) SELECT \`key\` ${mine}`,
        params,
        false,
        true,
      );
      const rows = await run<{ key: string }[]>('destroyByUser', markedOfUser, params, true);
      revoked = rows.map((row) => row.key).filter((key) => !earlier.has(key));
    }
    if (revoked.length > 0) void reaper.start().catch(() => {}); // a failure: the next sweep reaps
    return revoked;
  }

  return {
    revoke,
    reap: reaper.start,
    settled: reaper.settled,
    /** Not marked, for statements over many rows (a purge): a dependent subquery. */
    alive: `NOT EXISTS (SELECT 1 FROM ${r} AS m WHERE m.\`key\` = ${k})`,
    /**
     * The same as a join, for statements on one key or one user: the optimizer reads the mark as
     * a constant, where the dependent subquery runs per row (in-process, 8 in flight: a `get`
     * 7 200-7 400 against 10 500-10 800 per second as a join, the same as with no check). Use
     * with {@link unmarked} in the WHERE.
     */
    marked: `${t} LEFT JOIN ${r} AS m ON m.\`key\` = ${k}`,
    unmarked: 'm.`key` IS NULL',
    /** The marks table, quoted. */
    marks: r,
  };
}
