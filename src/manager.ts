import { CookieTooLargeError, SessionStateError } from './errors.ts';
import type { SessionEvent } from './events.ts';
import { guard } from './lib/as-session-error.ts';
import { readCookie, serializeCookie } from './lib/cookie.ts';
import { toDelta } from './lib/delta.ts';
import { hashToken, newToken, signToken, type Verified } from './lib/token.ts';
import type { ResolvedOptions } from './options.ts';
import { Session, type SessionData, type SessionState } from './session.ts';
import type { SealCodec, SealedStore, SessionMeta, SessionRecord, SessionStore } from './store.ts';

/**
 * What an adapter tells the core about a request.
 *
 * @example
 * ```ts
 * const rs = sessions.request({ cookie: req.headers.cookie, secure: true, userAgent: req.headers['user-agent'] });
 * ```
 */
export interface RequestInfo {
  /** The raw `Cookie` header. */
  readonly cookie?: string | null | undefined;
  /** Whether the request reached the app over HTTPS (decides `secure: 'auto'`). */
  readonly secure?: boolean;
  readonly userAgent?: string | undefined;
  readonly ip?: string | undefined;
}

/**
 * Headers an adapter adds to the response: `set-cookie`, `cache-control`, `vary` (append Vary).
 *
 * @example
 * ```ts
 * const { headers } = await rs.commit();
 * for (const [name, value] of headers) res.appendHeader(name, value);
 * ```
 */
export interface CommitResult {
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/**
 * What an adapter tells the core when it commits.
 *
 * @example
 * ```ts
 * const { headers } = await rs.commit({ status: res.statusCode });
 * ```
 */
export interface CommitOptions {
  /** The response status: 5xx commits nothing (the handler failed; its changes are half-done). */
  readonly status?: number;
}

/**
 * One session as `listSessions` reports it (for a "your active sessions" page).
 *
 * @example
 * ```ts
 * for (const info of await sessions.listSessions(userId)) {
 *   console.log(info.userAgent, new Date(info.lastSeenAt), info.id === session.id ? '(this one)' : '');
 * }
 * ```
 */
export interface SessionInfo {
  /** The public id (hashed key): compare with `session.id` to mark the current one. */
  readonly id: string;
  readonly userId: string | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
}

/** Browsers keep at most 4096 bytes of name, value and attributes per cookie (RFC 6265 6.1). */
const COOKIE_LIMIT = 4096;
const CLEAR = ''; // the value of an expiring cookie

/**
 * The session manager: made once per app by {@link createSessions}, used by the adapters.
 *
 * @example
 * ```ts
 * const sessions: Sessions<{ cart: string[] }> = createSessions({ secrets, store: memoryStore() });
 * await sessions.revokeUserSessions('user-42');
 * ```
 */
export interface Sessions<Data extends object = SessionData> {
  readonly options: ResolvedOptions;
  /** Open a request's session. Costs no I/O: the store is read on the first `session()`. */
  request(info: RequestInfo): RequestSession<Data>;
  /** The user's live sessions, most recently used first. Not available with `cookieStore`. */
  listSessions(userId: string): Promise<SessionInfo[]>;
  /** End one session by its public id; with `userId`, only if it belongs to that user. */
  revokeSession(id: string, options?: { readonly userId?: string }): Promise<boolean>;
  /**
   * End all of a user's sessions but `except` (a public id); resolves how many ended. With
   * `cookieStore` it needs the store's `revocations`, cannot take `except` (regenerate the current
   * session in the same request instead) and resolves 0, since nothing is counted.
   */
  revokeUserSessions(userId: string, options?: { readonly except?: string }): Promise<number>;
  /** Resolves when the store answers; rejects with `ERR_SESSION_STORE_UNAVAILABLE` otherwise. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}

/** @internal what every request of one manager shares */
export interface Core {
  readonly o: ResolvedOptions;
  readonly store: SessionStore | null;
  readonly codec: SealCodec | null;
  readonly sealed: SealedStore | null;
  /** Cookie value → token and store key, or null (see `cachedVerifier`). */
  readonly verify: (value: string) => Verified | null;
  emit(event: SessionEvent): void;
}

const NO_HEADERS: CommitResult = Object.freeze({ headers: Object.freeze([]) });
const NOTHING = Promise.resolve(NO_HEADERS);

/**
 * The session of one request: loaded on demand, committed once.
 *
 * @example
 * ```ts
 * const rs = sessions.request({ cookie: req.headers.cookie, secure: false });
 * const session = await rs.session();
 * session.set('seen', true);
 * for (const [name, value] of (await rs.commit()).headers) res.appendHeader(name, value);
 * ```
 */
export class RequestSession<Data extends object = SessionData> {
  readonly #c: Core;
  readonly #info: RequestInfo;
  #loading: Promise<Session<Data>> | null = null;
  #state: SessionState | null = null;
  #hadCookie = false;
  #reissue = false;
  /**
   * The cookie value the request came with, when it was signed with the current secret: the
   * same token signs to the same value (HMAC is deterministic), so re-sending it after a write
   * needs no new HMAC.
   */
  #signed: { readonly token: string; readonly value: string } | null = null;
  /** The key of the record the request came with (a regenerate changes `state.key`, not this). */
  #loadedKey: string | null = null;
  #committed: Promise<CommitResult> | null = null;

  /** @internal made by `sessions.request()` */
  constructor(core: Core, info: RequestInfo) {
    this.#c = core;
    this.#info = info;
  }

  /** Whether the handler asked for the session (only then is anything committed). */
  get loaded(): boolean {
    return this.#loading !== null;
  }

  /** The session: one store read on first call, the same object after. */
  session(): Promise<Session<Data>> {
    if (this.#committed)
      return Promise.reject(
        new SessionStateError('the session was already committed for this request'),
      );
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<Session<Data>> {
    const { o, codec } = this.#c;
    const now = o.now();
    const candidates = readCookie(this.#info.cookie, o.cookie.name);
    this.#hadCookie = candidates.length > 0;
    let record: SessionRecord | null = null;
    let token: string | null = null;
    let key: string | null = null;
    for (const value of candidates) {
      if (codec) {
        const opened = codec.open(value, o.cookie.name);
        if (!opened) continue;
        ({ record } = opened.payload);
        key = opened.payload.id;
        this.#reissue = opened.stale;
      } else {
        const verified = this.#c.verify(value);
        if (!verified) continue;
        token = verified.token;
        key = verified.key;
        this.#reissue = verified.secretIndex > 0;
        this.#signed = verified.secretIndex === 0 ? { token: verified.token, value } : null;
        record = await guard('get', () => this.#c.store!.get(key!, now));
      }
      if (record && (record.expiresAt <= now || record.absoluteExpiresAt <= now)) {
        this.#c.emit({ type: 'expired', id: key!, userId: record.userId, at: now });
        record = null;
      }
      if (record && codec && (await this.#revoked(record, now))) record = null;
      if (record) break;
    }
    if (!record) {
      token = null;
      key = null;
      this.#reissue = false;
    }
    this.#loadedKey = key;
    const state: SessionState = {
      record,
      data: record ? record.data : {},
      changes: new Map(),
      token,
      key,
      userId: record?.userId ?? null,
      userChanged: false,
      regenerate: false,
      destroyed: false,
      committed: false,
      now,
      idleTimeout: o.idleTimeout,
      absoluteTimeout: o.absoluteTimeout,
      issue: codec ? issueSealedId : issueToken,
    };
    this.#state = state;
    return new Session<Data>(state);
  }

  async #revoked(record: SessionRecord, now: number): Promise<boolean> {
    const list = this.#c.sealed?.revocations;
    if (!list || record.userId === null) return false;
    const notBefore = await guard('revocation check', () => list.notBefore(record.userId!, now));
    return notBefore !== null && record.createdAt < notBefore;
  }

  /**
   * Write what changed (one store call at most, a regenerate being a create and a destroy) and
   * return the headers to add. Call once, after the handler, before the response head is sent.
   * Idempotent: later calls return the same result.
   */
  commit(options: CommitOptions = {}): Promise<CommitResult> {
    // Django's rule, for every adapter alike: a handler that failed (5xx) saves nothing.
    if (options.status !== undefined && options.status >= 500) {
      if (this.#state) this.#state.committed = true;
      this.#committed ??= NOTHING;
    }
    this.#committed ??= this.#commit();
    return this.#committed;
  }

  /**
   * Commit at once when there is nothing to write (the common read: no change, no touch due, no
   * cookie to re-issue) and return the (empty) result; `undefined` when the commit needs the
   * store, which `commit()` then does. Lets an adapter send a read's response without waiting a
   * turn of the event loop.
   */
  commitIfIdle(): CommitResult | undefined {
    if (this.#committed) return undefined;
    const state = this.#state;
    if (state === null) {
      if (this.#loading) return undefined; // a load in flight: commit() waits for it
    } else {
      if (!this.#nothingToWrite(state, this.#c.o.now())) return undefined;
      state.committed = true;
    }
    this.#committed = NOTHING;
    return NO_HEADERS;
  }

  /** An existing session, unchanged, with no touch due and no cookie to re-issue. */
  #nothingToWrite(state: SessionState, now: number): boolean {
    const { record } = state;
    return (
      record !== null &&
      !state.destroyed &&
      !state.regenerate &&
      state.changes.size === 0 &&
      !this.#reissue &&
      now - record.lastSeenAt < this.#c.o.touchAfter
    );
  }

  async #commit(): Promise<CommitResult> {
    // A commit racing a load that is still in flight waits for it; a failed load commits nothing.
    if (this.#loading && !this.#state) await this.#loading.catch(() => undefined);
    if (!this.#state) return NO_HEADERS;
    const state = this.#state;
    state.committed = true;
    const { o } = this.#c;
    const now = o.now();
    if (this.#nothingToWrite(state, now)) return NO_HEADERS;
    if (state.destroyed) return this.#destroy(state, now);

    // Flash messages already read leave an empty list behind: that is not something to keep.
    const hasContent =
      state.userId !== null ||
      Object.keys(state.data).some(
        (k) => !(k === '$flash' && (state.data[k] as unknown[]).length === 0),
      );
    if (state.record === null || state.regenerate) {
      if (!hasContent) {
        if (!state.record) return NO_HEADERS;
        // A regenerate of a session emptied in this request: it simply ends.
        await this.#drop(state.record, this.#loadedKey!, now, 'destroy');
        return this.#clear();
      }
      return this.#create(state, now);
    }
    const expiresAt = Math.min(now + o.idleTimeout, state.record.absoluteExpiresAt);
    if (state.changes.size > 0) {
      const delta = toDelta(state.changes, expiresAt, now);
      const alive = this.#c.codec
        ? true
        : await guard('update', () => this.#c.store!.update(state.key!, delta, now));
      // Destroyed or revoked while this request ran: never write it back. The cookie is left
      // alone: a concurrent login may already have replaced it in the browser.
      if (!alive) return NO_HEADERS;
      return this.#cookie(
        state,
        { ...state.record, data: state.data, lastSeenAt: now, expiresAt },
        now,
      );
    }
    if (now - state.record.lastSeenAt >= o.touchAfter) {
      const alive = this.#c.codec
        ? true
        : await guard('touch', () => this.#c.store!.touch(state.key!, expiresAt, now, now));
      if (!alive) return NO_HEADERS;
      return this.#cookie(state, { ...state.record, lastSeenAt: now, expiresAt }, now);
    }
    return this.#cookie(state, state.record, now); // only the re-issue is left
  }

  async #create(state: SessionState, now: number): Promise<CommitResult> {
    const { o, store } = this.#c;
    const previous = state.record ? this.#loadedKey : null;
    if (state.key === null || state.token === null) state.issue(state);
    const record: SessionRecord = {
      data: state.data,
      userId: state.userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + o.idleTimeout, now + o.absoluteTimeout),
      absoluteExpiresAt: now + o.absoluteTimeout,
      meta: state.record?.meta ?? this.#meta(),
    };
    if (store) {
      await guard('create', () => store.create(state.key!, record));
      if (previous) await guard('destroy', () => store.destroy(previous));
    }
    if (previous || state.record) {
      this.#c.emit({
        type: 'regenerated',
        id: state.key!,
        previousId: previous,
        userId: state.userId,
        at: now,
      });
    } else {
      this.#c.emit({ type: 'created', id: state.key!, userId: state.userId, at: now });
    }
    if (store && state.userChanged && state.userId !== null)
      await this.#enforceMax(state.userId, state.key!, now);
    return this.#cookie(state, record, now);
  }

  async #enforceMax(userId: string, keep: string, now: number): Promise<void> {
    const { o, store } = this.#c;
    if (!Number.isFinite(o.maxSessionsPerUser)) return;
    const live = await guard('listByUser', () => store!.listByUser(userId, now));
    if (live.length <= o.maxSessionsPerUser) return;
    const oldest = live
      .filter((s) => s.key !== keep)
      .sort((a, b) => a.record.lastSeenAt - b.record.lastSeenAt)
      .slice(0, live.length - o.maxSessionsPerUser);
    if (oldest.length === 0) return;
    // The surplus goes in one batch (one statement or script), not one round trip per session.
    const keys = oldest.map((s) => s.key);
    const removed = await guard('destroyByUser', () =>
      store!.destroyByUser(userId, { keys, except: keep }),
    );
    for (const key of removed)
      this.#c.emit({ type: 'revoked', id: key, userId, reason: 'max-sessions', at: now });
  }

  async #destroy(state: SessionState, now: number): Promise<CommitResult> {
    if (state.record) {
      await this.#drop(state.record, this.#loadedKey!, now, state.destroyed || 'destroy');
    }
    return this.#clear();
  }

  async #drop(
    record: SessionRecord,
    key: string,
    now: number,
    reason: 'destroy' | 'logout',
  ): Promise<void> {
    const { store } = this.#c;
    if (store) await guard('destroy', () => store.destroy(key));
    this.#c.emit({ type: 'destroyed', id: key, userId: record.userId, reason, at: now });
  }

  #meta(): SessionMeta {
    // A sealed session cannot be listed, so nothing would ever read its meta; in the cookie it
    // would only spend up to ~350 of the 4096 bytes, on every request.
    if (!this.#c.o.trackMeta || this.#c.codec) return {};
    const { userAgent, ip } = this.#info;
    return {
      ...(userAgent ? { userAgent: userAgent.slice(0, 256) } : {}),
      ...(ip ? { ip } : {}),
    };
  }

  #secure(): boolean {
    const secure = this.#c.o.cookie.secure;
    return secure === 'auto' ? this.#info.secure === true : secure;
  }

  #setCookie(value: string, maxAge: number | undefined): CommitResult {
    const c = this.#c.o.cookie;
    const header = serializeCookie(c.name, value, {
      path: c.path,
      domain: c.domain,
      maxAge,
      httpOnly: true,
      secure: this.#secure(),
      sameSite: c.sameSite,
      partitioned: c.partitioned,
    });
    if (this.#c.codec && Buffer.byteLength(header) > COOKIE_LIMIT) {
      throw new CookieTooLargeError(Buffer.byteLength(header), COOKIE_LIMIT);
    }
    return {
      headers: [
        ['set-cookie', header],
        ['cache-control', 'no-store'],
        ['vary', 'Cookie'],
      ],
    };
  }

  #cookie(state: SessionState, record: SessionRecord, now: number): CommitResult {
    const value = this.#c.codec
      ? this.#c.codec.seal({ id: state.key!, record }, this.#c.o.cookie.name)
      : this.#signed !== null && this.#signed.token === state.token
        ? this.#signed.value
        : signToken(state.token!, this.#c.o.keys);
    return this.#setCookie(value, this.#c.o.cookie.persistent ? record.expiresAt - now : undefined);
  }

  /**
   * Expire the cookie (same name, path and domain) when this request ended the session. Only
   * then: a dead cookie seen on another request may race a login that already replaced it.
   */
  #clear(): CommitResult {
    return this.#hadCookie ? this.#setCookie(CLEAR, 0) : { headers: [] };
  }
}

function issueToken(state: SessionState): void {
  state.token = newToken();
  state.key = hashToken(state.token);
}

function issueSealedId(state: SessionState): void {
  state.key = hashToken(newToken());
  state.token = state.key;
}
