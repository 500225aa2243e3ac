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
   * an expired session near the least recently used end is dropped first, then the least recently *used* anonymous
   * session, and only when there is none the least recently used signed-in one: a flood of new,
   * cookieless visitors cannot exhaust the process's memory nor sign out a user who keeps using
   * the site. Each create does O(1) work to make room.
   */
  readonly maxSessions?: number;
  /**
   * How often expired sessions are swept, in ms (timer is `unref`'d). Default 60 000; 0 disables
   * (expired sessions are then dropped when read or evicted). A sweep checks 5 000 sessions per
   * turn of the event loop (well under a millisecond), so it never blocks a request for long.
   */
  readonly sweepInterval?: number;
}

/** Most sessions a sweep looks at per turn of the event loop. */
const SWEEP_CHUNK = 5000;
/**
 * Longest a sweep runs per turn, in ms: a chunk where most sessions expired (each removed from
 * its map and its user's index) took 10–14 ms (bench:scale at 200 000, the purging process's
 * longest event-loop delay); the turn ends at this mark instead.
 */
const SWEEP_SLICE_MS = 2;

/** A live iterator over one map and the entry it stands on (see `oldest`). */
interface Cursor {
  it: MapIterator<[string, Entry]> | null;
  head: readonly [string, Entry] | null;
  /** A second live iterator, going round the map for expired entries a few at a time. */
  scan: MapIterator<[string, Entry]> | null;
}

/**
 * One session: its data as JSON text (the only part a write changes, so a write parses and
 * writes back the data alone, not the whole record: 1.0 µs against 2.4 for a bench session with
 * a browser's user agent), its times as numbers, and its metadata (never changed after the
 * create) as a frozen object each read copies.
 */
interface Entry {
  data: string;
  expiresAt: number;
  /** Kept beside the data so the per-user surplus is found without parsing anything. */
  lastSeenAt: number;
  readonly userId: string | null;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  readonly meta: Readonly<SessionRecord['meta']>;
}

/** A fresh record from an entry (the caller may change its data in place). */
function recordOf(entry: Entry): SessionRecord {
  return {
    data: JSON.parse(entry.data) as SessionRecord['data'],
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastSeenAt: entry.lastSeenAt,
    expiresAt: entry.expiresAt,
    absoluteExpiresAt: entry.absoluteExpiresAt,
    meta: { ...entry.meta },
  };
}

/**
 * An in-process store: for tests, development and single-process apps. Each record's data is
 * kept as JSON text (smaller than objects, and every read hands out a fresh copy), expired records are
 * swept on a timer in small chunks, and the size is bounded with least-recently-used eviction
 * that drops anonymous sessions before signed-in ones.
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
  if (!Number.isFinite(sweepInterval) || sweepInterval < 0) {
    throw new SessionConfigError(
      `memoryStore: sweepInterval must be a non-negative number of ms (0 disables); got ${sweepInterval}`,
    );
  }
  // Two maps in use order (delete + set on every read and write moves an entry to the end), so
  // the first entry of each is its least recently used: eviction is O(1).
  const anonymous = new Map<string, Entry>();
  const signedIn = new Map<string, Entry>();
  const byUser = new Map<string, Set<string>>();
  const mapOf = (userId: string | null) => (userId === null ? anonymous : signedIn);
  // The least recently used entry of each map, found by one live iterator per map rather than by
  // iterating from the start: a Map keeps the slots of deleted entries until it rehashes, and
  // every read deletes and re-adds an entry, so a scan from the start skipped up to the whole
  // map's worth of empty slots at each eviction (~12 µs a create at the bound in bench/).
  const anonymousCursor: Cursor = { it: null, head: null, scan: null };
  const signedInCursor: Cursor = { it: null, head: null, scan: null };
  const cursorOf = (map: Map<string, Entry>) =>
    map === anonymous ? anonymousCursor : signedInCursor;

  /** Forget `key` as its map's oldest entry when it leaves its place (removed or moved to the end). */
  function leaving(map: Map<string, Entry>, key: string): void {
    const c = cursorOf(map);
    if (c.head !== null && c.head[0] === key) c.head = null;
  }

  /**
   * The least recently used entry of `map`. Every live entry sits after the cursor: those it
   * passed were its head and have been removed or moved to the end (where it meets them again).
   */
  function oldest(map: Map<string, Entry>): readonly [string, Entry] | undefined {
    const c = cursorOf(map);
    if (c.head !== null) return c.head;
    c.it ??= map.entries();
    const next = c.it.next();
    if (next.done) {
      c.it = null; // the map is empty: an exhausted iterator never sees later entries
      return undefined;
    }
    c.head = next.value;
    return c.head;
  }
  const lookup = (key: string) => anonymous.get(key) ?? signedIn.get(key);

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  if (sweepInterval > 0) {
    const schedule = () => {
      if (closed) return;
      timer = setTimeout(() => sweep(Date.now(), schedule, false), sweepInterval);
      timer.unref();
    };
    schedule();
  }

  /**
   * One pass over both maps, SWEEP_CHUNK entries (or SWEEP_SLICE_MS) per turn of the event loop; `done` gets the
   * number removed (also when the store closes meanwhile). The timer's pass never keeps the
   * process alive; an awaited `purgeExpired` does.
   */
  function sweep(now: number, done: (removed: number) => void, keepAlive: boolean): void {
    let removed = 0;
    const passes = [anonymous, signedIn].map((map) => ({ map, left: map.size, it: map.entries() }));
    const step = () => {
      if (closed) return done(removed);
      let budget = SWEEP_CHUNK;
      const until = performance.now() + SWEEP_SLICE_MS;
      for (const pass of passes) {
        while (budget > 0 && pass.left > 0) {
          if ((budget & 127) === 0 && performance.now() >= until) {
            budget = 0;
            break;
          }
          const next = pass.it.next();
          if (next.done) {
            pass.left = 0;
            break;
          }
          pass.left--;
          budget--;
          const [key, entry] = next.value;
          if (entry.expiresAt <= now) {
            remove(key, entry);
            removed++;
          }
        }
      }
      if (passes.some((p) => p.left > 0)) {
        const next = setImmediate(step);
        if (!keepAlive) next.unref?.();
      } else done(removed);
    };
    step();
  }

  /** The live entry under `key`, moved to the most recently used end; expired ones are dropped. */
  function use(key: string, now: number): Entry | null {
    const entry = lookup(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= now) {
      remove(key, entry);
      return null;
    }
    const map = mapOf(entry.userId);
    leaving(map, key);
    map.delete(key);
    map.set(key, entry);
    return entry;
  }

  function read(key: string, now: number): SessionRecord | null {
    const entry = use(key, now);
    return entry ? recordOf(entry) : null;
  }

  /** The delta on the live entry (its data, its times: nothing else is read); `null` when gone. */
  function write(key: string, delta: SessionDelta, now: number): Entry | null {
    const entry = use(key, now);
    if (!entry) return null;
    const changed = {
      data: JSON.parse(entry.data),
      expiresAt: entry.expiresAt,
      lastSeenAt: entry.lastSeenAt,
    } as SessionRecord;
    applyDelta(changed, delta);
    entry.data = JSON.stringify(changed.data);
    entry.expiresAt = changed.expiresAt;
    entry.lastSeenAt = changed.lastSeenAt;
    return entry;
  }

  function insert(key: string, record: SessionRecord): void {
    const old = lookup(key);
    if (old) remove(key, old);
    else makeRoom(record.lastSeenAt);
    const entry: Entry = {
      data: JSON.stringify(record.data),
      expiresAt: record.expiresAt,
      lastSeenAt: record.lastSeenAt,
      userId: record.userId,
      createdAt: record.createdAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
      meta: metaOf(record.meta),
    };
    mapOf(record.userId).set(key, entry);
    if (record.userId !== null) {
      let keys = byUser.get(record.userId);
      if (!keys) byUser.set(record.userId, (keys = new Set()));
      keys.add(key);
    }
  }

  /**
   * User agents, each string kept once: most sessions of a site share one of a few hundred
   * browsers' strings (bench:micro, 100 000 sessions of one browser: 542 → 422 bytes each). The
   * map forgets them all at once past 1 000 distinct ones, which costs only the sharing.
   */
  const agents = new Map<string, string>();
  function agent(ua: string): string {
    const known = agents.get(ua);
    if (known !== undefined) return known;
    if (agents.size >= 1000) agents.clear();
    agents.set(ua, ua);
    return ua;
  }
  /** A record's metadata as kept: through JSON once, as the data, its user agent shared, frozen. */
  function metaOf(meta: SessionRecord['meta']): Readonly<SessionRecord['meta']> {
    const kept = JSON.parse(JSON.stringify(meta)) as { userAgent?: string };
    if (typeof kept.userAgent === 'string') kept.userAgent = agent(kept.userAgent);
    return Object.freeze(kept);
  }

  function remove(key: string, entry: Entry): void {
    const map = mapOf(entry.userId);
    leaving(map, key);
    map.delete(key);
    if (entry.userId === null) return;
    const keys = byUser.get(entry.userId);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) byUser.delete(entry.userId);
  }

  /** Entries looked at for an expired one per eviction, per map, continuing where the last stopped. */
  const PEEK = 16;

  /** An expired entry of `map` among the next PEEK of its round-robin scan, if any. */
  function expiredNext(map: Map<string, Entry>, now: number): readonly [string, Entry] | undefined {
    const c = cursorOf(map);
    for (let seen = 0; seen < PEEK; seen++) {
      c.scan ??= map.entries();
      const next = c.scan.next();
      if (next.done) {
        c.scan = null; // round done: the next eviction starts a new one
        return undefined;
      }
      if (next.value[1].expiresAt <= now) return next.value;
    }
    return undefined;
  }

  function makeRoom(now: number): void {
    while (anonymous.size + signedIn.size >= maxSessions) {
      // An expired session first, then the least recently used anonymous one, then the least
      // recently used signed-in one: at most 2 × PEEK entries looked at, whatever the size.
      const victim =
        expiredNext(signedIn, now) ??
        expiredNext(anonymous, now) ??
        oldest(anonymous) ??
        oldest(signedIn);
      remove(victim![0], victim![1]);
    }
  }

  return {
    get size() {
      return anonymous.size + signedIn.size;
    },
    async get(key, now) {
      return read(key, now);
    },
    async create(key, record) {
      insert(key, record);
    },
    async insert(key, record, now) {
      if (use(key, now)) return false;
      insert(key, record);
      return true;
    },
    async update(key, delta, now) {
      const entry = write(key, delta, now);
      // A fresh copy: what was written shares the delta's `set` values with the caller.
      return entry ? recordOf(entry) : null;
    },
    // The request path's write: only "was it alive", so no copy of the record is made.
    async apply(key, delta, now) {
      return write(key, delta, now) !== null;
    },
    async regenerate(oldKey, newKey, { delta, userId }, now) {
      const entry = use(oldKey, now);
      if (!entry) return null;
      const record = recordOf(entry);
      applyDelta(record, delta);
      record.userId = userId;
      remove(oldKey, entry);
      insert(newKey, record);
      return recordOf(lookup(newKey)!);
    },
    async touch(key, expiresAt, lastSeenAt, now) {
      const entry = use(key, now);
      if (!entry) return null;
      entry.expiresAt = expiresAt;
      entry.lastSeenAt = lastSeenAt;
      return recordOf(entry);
    },
    async destroy(key) {
      const entry = lookup(key);
      if (entry === undefined) return false;
      remove(key, entry);
      return true;
    },
    async listByUser(userId, now) {
      const out: StoredSession[] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const entry = signedIn.get(key);
        if (!entry) continue;
        if (entry.expiresAt <= now) remove(key, entry);
        else out.push({ key, record: recordOf(entry) });
      }
      return out;
    },
    async destroyByUser(userId, { except, keys } = {}) {
      const deleted: string[] = [];
      const candidates = keys ?? [...(byUser.get(userId) ?? [])];
      for (const key of candidates) {
        if (key === except) continue;
        const entry = signedIn.get(key);
        if (!entry || entry.userId !== userId) continue;
        remove(key, entry);
        deleted.push(key);
      }
      return deleted;
    },
    async destroyUserSurplus(userId, { keep, except }, now) {
      const live: [string, number][] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const entry = signedIn.get(key);
        if (!entry) continue;
        if (entry.expiresAt <= now) remove(key, entry);
        else if (key !== except) live.push([key, entry.lastSeenAt]);
      }
      if (live.length <= keep) return [];
      live.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const deleted = live.slice(Math.max(0, keep)).map(([key]) => key);
      for (const key of deleted) remove(key, signedIn.get(key)!);
      return deleted;
    },
    purgeExpired(now) {
      // The same chunked pass as the timer's: 100 000 expired sessions in one synchronous scan
      // held the event loop ~57 ms (bench:scale).
      return new Promise((resolve) => sweep(now, resolve, true));
    },
    async ping() {},
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      anonymous.clear();
      signedIn.clear();
      byUser.clear();
      agents.clear();
      for (const c of [anonymousCursor, signedInCursor]) {
        c.it = null;
        c.head = null;
        c.scan = null;
      }
    },
  };
}
