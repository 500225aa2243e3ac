import type { Backend, Verified } from '../backends/backend.ts';
import { SessionStateError } from '../errors.ts';
import type { RefusalReason, SessionEvent } from '../events.ts';
import { toDelta } from '../lib/delta.ts';
import type { InternalOptions } from '../options.ts';
import { Session } from '../session/session.ts';
import {
  adoptsNonce,
  CSRF,
  FLASH,
  type Ids,
  own,
  type SessionContext,
  type SessionState,
} from '../session/state.ts';
import type { SessionData } from '../session/types.ts';
import type { SessionMeta, SessionRecord } from '../store.ts';
import {
  cookieMaxAge,
  isExpired,
  LIFE,
  type Lifetime,
  lifetimeOf,
  newDeadlines,
  slide,
  touchDue,
} from './expiry.ts';
import { plan } from './plan.ts';
import type { CommitOptions, CommitResult, RequestInfo } from './request.ts';
import type { SessionTransport, Transport } from './transport.ts';

/** @internal what every request of one manager shares */
export interface Core {
  readonly o: InternalOptions;
  readonly backend: Backend;
  readonly ctx: SessionContext;
  emit(event: SessionEvent): void;
  /** The transport a request's token travels by (cookie or header), chosen with no I/O. */
  transport(info: RequestInfo): Transport;
}

/**
 * Most same-named cookies whose record is looked up in one request. Every candidate is verified
 * (CPU only, bounded by `readCookie`'s own limit); only verified ones cost a store read.
 */
const MAX_LOOKUPS = 4;
const NO_HEADERS: CommitResult = Object.freeze({ headers: Object.freeze([]) });
const NOTHING = Promise.resolve(NO_HEADERS);

/** The cookie the request came with, when it verified and its record is live. */
interface Loaded {
  readonly ids: Verified;
  readonly record: SessionRecord;
}

/**
 * The session of one request: loaded on demand, committed once. Its commit is load -> plan
 * (`plan.ts`, pure) -> write (the backend chosen at `createSessions`) -> headers.
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
  readonly #t: Transport;
  #loading: Promise<Session<Data>> | null = null;
  #state: SessionState | null = null;
  #loaded: Loaded | null = null;
  /** The request presented a token (cookie or header): only then is an ending told to the client. */
  #presented = false;
  #committed: Promise<CommitResult> | null = null;

  /** @internal made by `sessions.request()` */
  constructor(core: Core, info: RequestInfo) {
    this.#c = core;
    this.#info = info;
    this.#t = core.transport(info);
  }

  /**
   * How this request's token travels: `'header'` when `token: { header }` is configured and the
   * request carries it (its cookie is then never read), else `'cookie'`. Known before any I/O, so
   * a CSRF guard can let a header-token request through before it reads the body.
   */
  get transport(): SessionTransport {
    return this.#t.kind;
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
    const { o, backend, ctx } = this.#c;
    const now = o.now();
    const candidates = this.#t.read(this.#info);
    this.#presented = candidates.length > 0;
    let nonce: Ids | null = null;
    let lookups = 0;
    for (const value of candidates) {
      const ids = backend.verify(value);
      if (typeof ids === 'string') {
        this.#refused(ids, now, null);
        continue;
      }
      if (lookups === MAX_LOOKUPS) break;
      lookups++;
      const record = await backend.load(ids, now);
      if (record === 'unknown') {
        // Signed by us, no record: a CSRF binding handed out earlier (signed as a nonce), or a
        // session that ended elsewhere (never a nonce: its token is never used again).
        if (ids.nonce) nonce ??= { token: ids.token, key: ids.key };
        continue;
      }
      if (record === 'revoked') {
        this.#refused('revoked', now, ids.key);
        continue;
      }
      if (isExpired(record, now, lifetimeOf(record.data, ctx.life))) {
        this.#c.emit({ type: 'expired', id: ids.key, userId: record.userId, at: now });
        continue;
      }
      this.#loaded = { ids, record };
      break;
    }
    const loaded = this.#loaded;
    const record = loaded === null ? null : loaded.record;
    const state: SessionState = {
      record,
      data: record === null ? {} : record.data,
      changes: new Map(),
      token: loaded === null ? null : loaded.ids.token,
      key: loaded === null ? null : loaded.ids.key,
      nonce,
      issued: false,
      userId: record === null ? null : record.userId,
      userChanged: false,
      regenerate: false,
      destroyed: false,
      committed: false,
      exemptFrom: null,
      transport: this.#t.kind,
      now,
      ctx,
    };
    this.#state = state;
    return new Session<Data>(state);
  }

  #refused(reason: RefusalReason, at: number, id: string | null): void {
    this.#c.emit({ type: 'refused', reason, id, at });
  }

  /**
   * Write what changed (one store call at most; a regenerate is one atomic rename) and return
   * the headers to add. Call once, after the handler, before the response head is sent.
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
      if (
        this.#plan(state, this.#c.o.now(), lifetimeOf(state.data, this.#c.ctx.life)) !== 'nothing'
      )
        return undefined;
      state.committed = true;
    }
    this.#committed = NOTHING;
    return NO_HEADERS;
  }

  #plan(state: SessionState, now: number, life: Lifetime) {
    const { record } = state;
    return plan({
      loaded: record !== null,
      ended: state.destroyed !== false,
      regenerate: state.regenerate,
      changed: state.changes.size > 0,
      hasContent: (record === null || state.regenerate) && hasContent(state),
      reissue: this.#loaded?.ids.stale === true,
      touchDue: record !== null && touchDue(record, now, life),
      nonce: state.issued,
    });
  }

  async #commit(): Promise<CommitResult> {
    // A commit racing a load that is still in flight waits for it; a failed load commits nothing.
    if (this.#loading && !this.#state) await this.#loading.catch(() => undefined);
    const state = this.#state;
    if (state === null) return NO_HEADERS;
    state.committed = true;
    const now = this.#c.o.now();
    const life = lifetimeOf(state.data, this.#c.ctx.life);
    const next = this.#plan(state, now, life);
    if (next === 'nothing') return NO_HEADERS;
    if (next === 'end') return this.#end(now);
    const loaded = this.#loaded;
    if (loaded === null) {
      return next === 'create' ? this.#create(state, now, life) : this.#nonce(state, now, life);
    }
    const { backend } = this.#c;
    const { record, ids } = loaded;
    if (next === 'regenerate') return this.#regenerate(state, loaded, now, life);
    const expiresAt = slide(record, now, life);
    if (next === 'update') {
      // A write moves the deadline as a read does: when a touch is due (at most once per
      // touchAfter; a lifetime of its own comes only with a login, which regenerates). Only then
      // does the client get the cookie again (its Max-Age follows the deadline); otherwise it
      // keeps the one it holds, and the write sends no Set-Cookie. A sealed cookie holds the
      // record: every write is a new one.
      const slides = backend.cookieHoldsRecord || touchDue(record, now, life);
      const alive = await backend.update(
        ids.key,
        slides ? toDelta(state.changes, expiresAt, now) : toDelta(state.changes),
        now,
      );
      // Destroyed or revoked while this request ran: never write it back. The cookie is left
      // alone: a concurrent login may already have replaced it in the browser.
      if (!alive) return NO_HEADERS;
      // Signed with an older secret: re-issued under the current one whether or not it slid.
      if (!slides && !ids.stale) return NO_HEADERS;
      const after = slides ? { lastSeenAt: now, expiresAt } : {};
      return this.#cookie(ids, { ...record, data: state.data, ...after }, now, life);
    }
    if (next === 'touch') {
      if (!(await backend.touch(ids.key, expiresAt, now))) return NO_HEADERS;
      return this.#cookie(ids, { ...record, lastSeenAt: now, expiresAt }, now, life);
    }
    return this.#cookie(ids, record, now, life); // only the re-issue is left
  }

  #ids(state: SessionState): Ids {
    if (state.token !== null && state.key !== null) return { token: state.token, key: state.key };
    const ids = this.#c.backend.issue();
    state.token = ids.token;
    state.key = ids.key;
    return ids;
  }

  async #create(state: SessionState, now: number, life: Lifetime): Promise<CommitResult> {
    const { nonce } = state;
    const nonces = this.#c.backend.nonces;
    if (nonce !== null && nonces !== null && adoptsNonce(state))
      return this.#adopt(state, nonce, nonces.insert, now, life);
    // A login (or a regenerate) gets fresh ids, never the nonce's token (no fixation); the CSRF
    // tokens the nonce bound stay valid through its secret, kept in the data.
    const ids = this.#ids(state);
    if (nonce !== null && own(state.data, CSRF) === undefined)
      state.data[CSRF] = this.#c.ctx.csrfSecret(nonce.token);
    const record: SessionRecord = {
      data: state.data,
      userId: state.userId,
      ...newDeadlines(now, life),
      meta: this.#meta(),
    };
    await this.#c.backend.create(ids.key, record);
    this.#c.emit({ type: 'created', id: ids.key, userId: state.userId, at: now });
    if (state.userChanged && state.userId !== null)
      await this.#enforceMax(state.userId, ids.key, now);
    return this.#cookie(ids, record, now, life);
  }

  /**
   * The first write of an anonymous session with a nonce: the record is inserted under the
   * nonce's token if no request did it first; otherwise this request's changes are applied to
   * the record that request wrote, as any update. So a page's racing first writes (twenty
   * "like" clicks after one form) all land in one record, and its CSRF tokens stay valid (the
   * secret is derived from the same token).
   */
  async #adopt(
    state: SessionState,
    ids: Ids,
    insert: (key: string, record: SessionRecord, now: number) => Promise<boolean>,
    now: number,
    life: Lifetime,
  ): Promise<CommitResult> {
    const record: SessionRecord = {
      data: state.data,
      userId: null,
      ...newDeadlines(now, life),
      meta: this.#meta(),
    };
    if (await insert(ids.key, record, now)) {
      this.#c.emit({ type: 'created', id: ids.key, userId: null, at: now });
    } else {
      const delta = toDelta(state.changes, record.expiresAt, now);
      // Gone since (a logout in another tab): nothing is written back, as for any update.
      if (!(await this.#c.backend.update(ids.key, delta, now))) return NO_HEADERS;
    }
    // Sent again as a session's cookie: the token is now a record's, signed as one.
    return this.#send(
      this.#c.backend.cookieValue(ids, record, null),
      cookieMaxAge(record.expiresAt, now, life),
    );
  }

  /** A stateless CSRF token was handed out: the cookie that binds it, and no record. */
  #nonce(state: SessionState, now: number, life: Lifetime): CommitResult {
    const nonce = state.nonce as Ids; // the plan says 'nonce' only when one was issued
    const nonces = this.#c.backend.nonces as NonNullable<Backend['nonces']>;
    const { expiresAt } = newDeadlines(now, life);
    return this.#send(nonces.cookieValue(nonce.token), cookieMaxAge(expiresAt, now, life));
  }

  async #regenerate(
    state: SessionState,
    loaded: Loaded,
    now: number,
    life: Lifetime,
  ): Promise<CommitResult> {
    const ids = this.#ids(state);
    const delta = toDelta(state.changes, slide(loaded.record, now, life), now);
    const record = await this.#c.backend.regenerate(
      loaded.ids.key,
      ids.key,
      {
        delta,
        userId: state.userId,
        loaded: { ...loaded.record, data: state.data },
        exemptFrom: state.exemptFrom,
      },
      now,
    );
    if (record === null) {
      // Logged out or revoked while this request ran: it ends anonymous. No cookie: the old one
      // is dead, and a concurrent login may already have replaced it in the browser.
      this.#refused('revoked', now, loaded.ids.key);
      return NO_HEADERS;
    }
    this.#c.emit({
      type: 'regenerated',
      id: ids.key,
      previousId: loaded.ids.key,
      userId: state.userId,
      at: now,
    });
    if (state.userChanged && state.userId !== null)
      await this.#enforceMax(state.userId, ids.key, now);
    return this.#cookie(ids, record, now, lifetimeOf(record.data, this.#c.ctx.life));
  }

  async #enforceMax(userId: string, keep: string, now: number): Promise<void> {
    const ended = await this.#c.backend.enforceMax(userId, keep, this.#c.o.maxSessionsPerUser, now);
    for (const id of ended)
      this.#c.emit({ type: 'revoked', id, userId, reason: 'max-sessions', at: now });
  }

  async #end(now: number): Promise<CommitResult> {
    const loaded = this.#loaded;
    const state = this.#state;
    if (loaded !== null && state !== null) {
      const reason = state.destroyed || 'destroy';
      await this.#c.backend.destroy(loaded.ids.key);
      this.#c.emit({
        type: 'destroyed',
        id: loaded.ids.key,
        userId: loaded.record.userId,
        reason,
        at: now,
      });
    }
    return this.#clear();
  }

  #meta(): SessionMeta {
    if (!this.#c.o.trackMeta || !this.#c.backend.keepsMeta) return {};
    const { userAgent, ip } = this.#info;
    return {
      ...(userAgent ? { userAgent: userAgent.slice(0, 256) } : {}),
      ...(ip ? { ip } : {}),
    };
  }

  #cookie(ids: Ids, record: SessionRecord, now: number, life: Lifetime): CommitResult {
    const loaded = this.#loaded;
    const reuse = loaded !== null && loaded.ids.token === ids.token ? loaded.ids.value : null;
    const value = this.#c.backend.cookieValue(ids, record, reuse);
    return this.#send(value, cookieMaxAge(record.expiresAt, now, life), reuse);
  }

  /** Hand the client a token value (cookie or response header), unless it holds it (`held`). */
  #send(value: string, maxAge: number | undefined, held: string | null = null): CommitResult {
    const headers = this.#t.issue(value, maxAge, this.#info, held);
    return headers.length === 0 ? NO_HEADERS : { headers };
  }

  /**
   * Tell the client its token is dead (an expired cookie, an empty response header) when this
   * request ended the session. Only then: a dead token seen on another request may race a login
   * that already replaced it.
   */
  #clear(): CommitResult {
    return this.#presented ? { headers: this.#t.expire(this.#info) } : NO_HEADERS;
  }
}

/** Whether the session holds something worth a record: a user, or data of the user's own. */
function hasContent(state: SessionState): boolean {
  if (state.userId !== null) return true;
  for (const key of Object.keys(state.data)) {
    if (key === LIFE) continue;
    // Flash messages already read leave an empty list behind: that is not something to keep.
    if (key === FLASH) {
      const list = state.data[key];
      if (Array.isArray(list) && list.length === 0) continue;
    }
    return true;
  }
  return false;
}
