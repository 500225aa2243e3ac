import { SessionStateError } from '../errors.ts';
import { csrfTokenMatches, maskCsrfSecret, newCsrfSecret } from '../lib/csrf.ts';
import { type Duration, parseDuration } from '../lib/duration.ts';
import { checkText, cloneJson, copyJson } from '../lib/json.ts';
import { applyOp } from '../lib/ops.ts';
import { LIFE, lifetimeOf, newDeadlines, slide } from '../lifecycle/expiry.ts';
import type { SessionTransport } from '../lifecycle/transport.ts';
import type { AtomicOp, JsonValue } from '../store.ts';
import { adoptsNonce, CSRF, FLASH, isUserKey, own, type SessionState } from './state.ts';
import type { ArrayKeys, ElementOf, Flash, KeyOf, NumberKeys, SessionData } from './types.ts';

/**
 * Per-session lifetime, chosen at login ("remember me", or a short session on a shared
 * computer). Each bound stays within the manager's `absoluteTimeout`; the choice is kept in the
 * record, so every store carries it.
 *
 * @example
 * ```ts
 * session.login(user.id, remember ? { idleTimeout: '30d', persistent: true } : { persistent: false, idleTimeout: '15m' });
 * ```
 */
export interface LoginOptions {
  /** Idle timeout of this session (at most the manager's `absoluteTimeout`). */
  readonly idleTimeout?: Duration;
  /** Absolute timeout of this session, from its creation (at most the manager's). */
  readonly absoluteTimeout?: Duration;
  /** `false`: a browser-session cookie for this session; `true`: Max-Age follows the server. */
  readonly persistent?: boolean;
}

/** @internal lets `revokeUserSessions(userId, { except: session })` mark the request that may outlive it */
export const EXEMPT: unique symbol = Symbol('tessera.exempt');

/**
 * One visitor's session during one request. Reads and writes are synchronous and local; the
 * manager writes the changes (only them, as a delta) once, after the handler, before the
 * response is sent.
 *
 * Values are JSON. `get` returns a copy, so changing a returned object in place changes nothing:
 * `set` it back, or use the atomic `push`/`pull`/`increment`, which also keep every change when
 * two requests of one session run at once. Only own keys exist: `has('constructor')` is false.
 *
 * @example
 * ```ts
 * const session = await req.session();
 * session.push('cart', productId);            // atomic: two tabs adding both count
 * session.set('lang', 'fr');
 * session.flash('success', 'Added to cart');
 * if (ok) session.login(user.id);               // new token, user bound
 * ```
 */
export class Session<Data extends object = SessionData> {
  readonly #s: SessionState;

  /** @internal Sessions are made by the manager: `await sessions.request(…).session()`. */
  constructor(state: SessionState) {
    this.#s = state;
  }

  /**
   * The session's public id: the SHA-256 of its token, as the store keys it. Safe to show, log
   * and use in "revoke this session" forms; it cannot be turned back into a cookie.
   */
  get id(): string {
    return this.#ids().key;
  }

  /**
   * How this request's token travels: `'cookie'`, or `'header'` for a request that carried the
   * `token: { header }` header (API and mobile clients; see docs/tokens.md). The CSRF guards let a
   * header-token request through: a browser never adds that header to a cross-site request.
   */
  get transport(): SessionTransport {
    return this.#s.transport;
  }

  /** The bound user, or `null` for an anonymous session. */
  get userId(): string | null {
    return this.#s.userId;
  }

  /** True when no stored session came with the request (first visit, or the old one was dead). */
  get isNew(): boolean {
    return this.#s.record === null;
  }

  /** When the session was created (epoch ms). A regenerate keeps it (and the absolute deadline). */
  get createdAt(): number {
    return this.#s.record ? this.#s.record.createdAt : this.#s.now;
  }

  /** When the session will expire if unused from now on (epoch ms): idle and absolute timeouts. */
  get expiresAt(): number {
    const s = this.#s;
    const life = lifetimeOf(s.data, s.ctx.life);
    return slide(
      s.record ?? { ...newDeadlines(s.now, life), data: {}, userId: null, meta: {} },
      s.now,
      life,
    );
  }

  /** A copy of the value at `key`, or `undefined`. */
  get<K extends KeyOf<Data>>(key: K): Data[K] | undefined {
    const value = own(this.#s.data, key);
    return (value === undefined ? undefined : cloneJson(value)) as Data[K] | undefined;
  }

  has(key: KeyOf<Data>): boolean {
    return own(this.#s.data, key) !== undefined;
  }

  /** Set `key`. Throws a TypeError now for anything JSON (or a store) cannot carry back faithfully. */
  set<K extends KeyOf<Data>>(key: K, value: Data[K]): this {
    this.#writable(key);
    const copy = copyJson(value, key);
    this.#s.data[key] = copy;
    this.#s.changes.set(key, { kind: 'set', value: copy });
    return this;
  }

  /** Remove `key`; `true` when it was there. */
  delete(key: KeyOf<Data>): boolean {
    this.#writable(key);
    const had = own(this.#s.data, key) !== undefined;
    delete this.#s.data[key];
    this.#s.changes.set(key, { kind: 'unset' });
    return had;
  }

  /** Remove every key (the session itself, its user and its flash messages stay). */
  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }

  keys(): KeyOf<Data>[] {
    return Object.keys(this.#s.data).filter(isUserKey) as KeyOf<Data>[];
  }

  entries(): [KeyOf<Data>, Data[KeyOf<Data>]][] {
    return this.keys().map((key) => [key, this.get(key) as Data[KeyOf<Data>]]);
  }

  /** Append to the list at `key`, atomically in the store (a missing value becomes a list). */
  push<K extends ArrayKeys<Data>>(key: K, ...values: ElementOf<Data[K]>[]): this {
    this.#writable(key);
    this.#op({ op: 'push', key, values: values.map((v, i) => copyJson(v, `${key}[+${i}]`)) });
    return this;
  }

  /** Remove every element equal to one of `values` from the list at `key`, atomically. */
  pull<K extends ArrayKeys<Data>>(key: K, ...values: ElementOf<Data[K]>[]): this {
    this.#writable(key);
    this.#op({ op: 'pull', key, values: values.map((v, i) => copyJson(v, `${key}[-${i}]`)) });
    return this;
  }

  /**
   * Add `by` (default 1) to the number at `key`, atomically; returns the value as this request
   * sees it. A result that is not a finite number (`1e308` twice) is a TypeError now: no store
   * could read it back.
   */
  increment(key: NumberKeys<Data>, by = 1): number {
    this.#writable(key);
    if (!Number.isFinite(by))
      throw new TypeError(`increment: by must be a finite number; got ${by}`);
    const current = own(this.#s.data, key);
    const next = (typeof current === 'number' ? current : 0) + by;
    if (!Number.isFinite(next))
      throw new TypeError(
        `increment(${JSON.stringify(key)}) would reach ${next}, which no store can keep`,
      );
    this.#op({ op: 'increment', key, by });
    return next;
  }

  /** Queue a message for the next page that calls {@link flashes}. */
  flash(type: string, message: string): this {
    this.#live();
    const value = { type: String(type), message: String(message) };
    checkText(value.type, 'flash type');
    checkText(value.message, 'flash message');
    this.#op({ op: 'push', key: FLASH, values: [value] });
    return this;
  }

  /** The queued flash messages (of one `type`, or all), removed as they are read. */
  flashes(type?: string): Flash[] {
    this.#live();
    const all = own(this.#s.data, FLASH);
    if (!Array.isArray(all) || all.length === 0) return [];
    const picked = (all as unknown as Flash[]).filter((f) => type === undefined || f.type === type);
    if (picked.length > 0)
      this.#op({ op: 'pull', key: FLASH, values: picked as unknown as JsonValue[] });
    return picked.map((f) => ({ type: f.type, message: f.message }));
  }

  /**
   * A CSRF token for a form or header: a fresh mask of the session's CSRF secret, different on
   * every call. A stored session needs no write for it: the secret is derived (HMAC under your
   * secrets) from the session's token, and rotates with it at regenerate and login.
   */
  csrfToken(): string {
    this.#live();
    const s = this.#s;
    const kept = own(s.data, CSRF);
    if (typeof kept === 'string') return maskCsrfSecret(kept);
    const token = s.record === null ? null : s.token;
    if (token !== null) return maskCsrfSecret(s.ctx.csrfSecret(token));
    if (s.ctx.statelessCsrf) {
      // No record, and none needed: the secret is bound to a nonce cookie (see state.ts).
      if (s.nonce === null) {
        s.nonce = s.ctx.issue();
        s.issued = true;
      }
      return maskCsrfSecret(s.ctx.csrfSecret(s.nonce.token));
    }
    // A sealed session (or a store without `insert`) keeps its secret in the data.
    const secret = newCsrfSecret();
    this.#reserved(CSRF, secret);
    return maskCsrfSecret(secret);
  }

  /** Does `token` (from a form field or header) belong to this session? Constant-time. */
  verifyCsrfToken(token: unknown): boolean {
    const s = this.#s;
    const kept = own(s.data, CSRF);
    if (typeof kept === 'string') return csrfTokenMatches(token, kept);
    if (s.record !== null && s.token !== null) return s.ctx.csrfMatches(token, s.token);
    // No record: the nonce cookie binds it (the token must come from that very cookie's secret).
    return s.nonce !== null && s.ctx.csrfMatches(token, s.nonce.token);
  }

  /**
   * Issue a new token for this session and kill the old one at commit; data is kept, and so are
   * its creation time and absolute deadline. Done atomically and only while the session is alive:
   * a session logged out or revoked while this request ran ends anonymous instead. Do it
   * whenever privilege changes (login does it for you) to defeat session fixation.
   */
  regenerate(): this {
    this.#live();
    const s = this.#s;
    // The stateless CSRF secret is bound to the token, so it rotates with it (as at login).
    s.regenerate = true;
    s.token = null;
    s.key = null;
    return this;
  }

  /**
   * Bind `userId`: always regenerates (keeping the absolute deadline: see docs/design.md), and
   * gives the session a new CSRF secret. `options` sets this session's own lifetime.
   */
  login(userId: string, options: LoginOptions = {}): this {
    if (typeof userId !== 'string' || userId.length === 0) {
      throw new TypeError('login(userId): userId must be a non-empty string');
    }
    checkText(userId, 'login(userId): userId');
    const life = this.#lifeOption(options);
    this.regenerate();
    const s = this.#s;
    s.userId = userId;
    s.userChanged = true;
    if (own(s.data, CSRF) !== undefined) {
      delete s.data[CSRF];
      s.changes.set(CSRF, { kind: 'unset' });
    }
    if (life) this.#reserved(LIFE, life);
    return this;
  }

  /** End the session on the server and expire the cookie (same as {@link destroy}, audited as a logout). */
  logout(): void {
    this.#end('logout');
  }

  /** Delete the session from the store and expire the cookie. Later changes in this request throw. */
  destroy(): void {
    this.#end('destroy');
  }

  /** @internal see {@link EXEMPT} */
  [EXEMPT](notBefore: number): void {
    this.#s.exemptFrom = notBefore;
    this.regenerate();
  }

  #lifeOption(options: LoginOptions): JsonValue | null {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('login(userId, options): options must be an object');
    const { idleTimeout, absoluteTimeout, persistent } = options;
    if (idleTimeout === undefined && absoluteTimeout === undefined && persistent === undefined)
      return null;
    const bound = this.#s.ctx.life.absoluteTimeout;
    const ms = (value: Duration | undefined, name: string): number | undefined => {
      if (value === undefined) return undefined;
      let parsed: number;
      try {
        parsed = parseDuration(value, name);
      } catch (err) {
        throw new TypeError(`login: ${(err as Error).message}`);
      }
      if (parsed < 1000 || parsed > bound)
        throw new TypeError(
          `login: ${name} must be between 1s and the manager's absoluteTimeout (${bound} ms); got ${parsed} ms`,
        );
      return parsed;
    };
    const i = ms(idleTimeout, 'idleTimeout');
    const a = ms(absoluteTimeout, 'absoluteTimeout');
    if (persistent !== undefined && typeof persistent !== 'boolean')
      throw new TypeError('login: persistent must be a boolean');
    return {
      ...(i === undefined ? {} : { i }),
      ...(a === undefined ? {} : { a }),
      ...(persistent === undefined ? {} : { p: persistent }),
    };
  }

  #ids(): { token: string; key: string } {
    const s = this.#s;
    // A nonce's ids are the ones its first write adopts (a login gets fresh ones instead).
    if (s.token === null && s.record === null && s.nonce !== null && adoptsNonce(s)) return s.nonce;
    if (s.token === null || s.key === null) {
      const ids = s.ctx.issue();
      s.token = ids.token;
      s.key = ids.key;
    }
    return { token: s.token, key: s.key };
  }

  #reserved(key: string, value: JsonValue): void {
    this.#s.data[key] = value;
    this.#s.changes.set(key, { kind: 'set', value });
  }

  #end(reason: 'destroy' | 'logout'): void {
    if (this.#s.committed)
      throw new SessionStateError('the session was already committed for this request');
    const s = this.#s;
    s.destroyed = reason;
    s.data = {};
    s.changes.clear();
  }

  #op(op: AtomicOp): void {
    const s = this.#s;
    const key = op.key;
    const next = applyOp(own(s.data, key), op);
    if (next === undefined) delete s.data[key];
    else s.data[key] = next;
    const change = s.changes.get(key);
    // A key already set or deleted in this request has a known value: keep it a plain set.
    if (change && change.kind !== 'ops') {
      s.changes.set(key, next === undefined ? { kind: 'unset' } : { kind: 'set', value: next });
    } else if (change) change.ops.push(op);
    else s.changes.set(key, { kind: 'ops', ops: [op] });
  }

  #live(): void {
    if (this.#s.committed) {
      throw new SessionStateError(
        'the session was committed for this request (the response is on its way); change it before responding',
      );
    }
    if (this.#s.destroyed) throw new SessionStateError('the session was destroyed in this request');
  }

  #writable(key: string): void {
    this.#live();
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError('session keys must be non-empty strings');
    if (!isUserKey(key))
      throw new TypeError(
        `session keys starting with "$" are reserved for tessera; rename ${JSON.stringify(key)}`,
      );
    if (key === '__proto__') throw new TypeError('"__proto__" is refused as a session key');
    checkText(key, 'session key');
  }
}
