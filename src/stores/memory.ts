import { SessionConfigError } from '../errors.ts';
import { applyDelta } from '../lib/ops.ts';
import type { SessionDelta, SessionRecord, SessionStore, StoredSession } from '../store.ts';

/**
 * MemoryStoreOptions.
 *
 * @example
 * ```ts
 * const store = memoryStore({ maxSessions: 10_000, sweepInterval: 30_000 });
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once. Default 100 000 (about 50 MB with small sessions). At the bound,
   * expired sessions are swept first, then the least recently written session is dropped, so a
   * flood of new visitors cannot exhaust the process's memory.
   */
  readonly maxSessions?: number;
  /** How often expired sessions are swept, in ms (timer is `unref`'d). Default 60 000; 0 disables. */
  readonly sweepInterval?: number;
}

/**
 * An in-process store: for tests, development and single-process apps. Records are kept as
 * JSON text (smaller than objects, and every read hands out a fresh copy), expired records are
 * swept on a timer, and the size is bounded.
 *
 * @example
 * ```ts
 * import { createSessions, memoryStore } from 'tessera-session';
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore & {
  /** Number of records held (live or not yet swept). */
  readonly size: number;
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
} {
  const { maxSessions = 100_000, sweepInterval = 60_000 } = options;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new SessionConfigError(
      `memoryStore: maxSessions must be a positive integer; got ${maxSessions}`,
    );
  }
  // Map order is write order: delete + set on every write makes the first entry the least
  // recently written, which is what the bound evicts.
  const records = new Map<string, string>();
  const byUser = new Map<string, Set<string>>();
  let timer: NodeJS.Timeout | undefined;
  if (sweepInterval > 0) {
    timer = setInterval(() => purge(Date.now()), sweepInterval);
    timer.unref();
  }

  function read(key: string, now: number): SessionRecord | null {
    const text = records.get(key);
    if (text === undefined) return null;
    const record = JSON.parse(text) as SessionRecord;
    if (record.expiresAt <= now) {
      remove(key, record.userId);
      return null;
    }
    return record;
  }

  function write(key: string, record: SessionRecord): void {
    records.delete(key);
    records.set(key, JSON.stringify(record));
  }

  function index(key: string, userId: string | null): void {
    if (userId === null) return;
    let keys = byUser.get(userId);
    if (!keys) byUser.set(userId, (keys = new Set()));
    keys.add(key);
  }

  function unindex(key: string, userId: string | null): void {
    if (userId === null) return;
    const keys = byUser.get(userId);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) byUser.delete(userId);
  }

  function remove(key: string, userId: string | null): void {
    records.delete(key);
    unindex(key, userId);
  }

  function update(key: string, delta: SessionDelta, now: number): boolean {
    const record = read(key, now);
    if (!record) return false;
    const before = record.userId;
    applyDelta(record, delta);
    write(key, record);
    if (before !== record.userId) {
      unindex(key, before);
      index(key, record.userId);
    }
    return true;
  }

  function purge(now: number): number {
    let removed = 0;
    for (const [key, text] of records) {
      const record = JSON.parse(text) as SessionRecord;
      if (record.expiresAt <= now) {
        remove(key, record.userId);
        removed++;
      }
    }
    return removed;
  }

  function makeRoom(now: number): void {
    if (records.size < maxSessions) return;
    purge(now);
    while (records.size >= maxSessions) {
      const oldest = records.keys().next().value as string;
      const record = JSON.parse(records.get(oldest)!) as SessionRecord;
      remove(oldest, record.userId);
    }
  }

  return {
    get size() {
      return records.size;
    },
    async get(key, now) {
      return read(key, now);
    },
    async create(key, record) {
      makeRoom(record.lastSeenAt);
      const old = records.get(key);
      if (old !== undefined) unindex(key, (JSON.parse(old) as SessionRecord).userId);
      write(key, record);
      index(key, record.userId);
    },
    async update(key, delta, now) {
      return update(key, delta, now);
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      return update(key, { expiresAt, lastSeenAt }, now);
    },
    async destroy(key) {
      const text = records.get(key);
      if (text === undefined) return false;
      remove(key, (JSON.parse(text) as SessionRecord).userId);
      return true;
    },
    async listByUser(userId, now) {
      const out: StoredSession[] = [];
      for (const key of byUser.get(userId) ?? []) {
        const record = read(key, now);
        if (record) out.push({ key, record });
      }
      return out;
    },
    async destroyByUser(userId, { except } = {}) {
      let removed = 0;
      for (const key of [...(byUser.get(userId) ?? [])]) {
        if (key === except) continue;
        remove(key, userId);
        removed++;
      }
      return removed;
    },
    async purgeExpired(now) {
      return purge(now);
    },
    async ping() {},
    async close() {
      if (timer) clearInterval(timer);
      records.clear();
      byUser.clear();
    },
  };
}
