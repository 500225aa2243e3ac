/**
 * Every error tessera throws on purpose is a {@link SessionError} with a stable `code`.
 * Match on `code` (or `instanceof`), never on the message: messages are for people and may change.
 *
 * @example
 * ```ts
 * if (err instanceof SessionError && err.code === 'ERR_SESSION_CSRF') res.statusCode = 403;
 * ```
 */
export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_STORE_UNAVAILABLE'
  | 'ERR_SESSION_OUTCOME_UNKNOWN'
  | 'ERR_SESSION_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_CSRF'
  | 'ERR_SESSION_STATE';

/**
 * Base class of tessera's errors.
 *
 * @example
 * ```ts
 * try { await handle(req) } catch (err) {
 *   if (err instanceof SessionError && err.code === 'ERR_SESSION_STORE_UNAVAILABLE') retryLater();
 * }
 * ```
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  /** The HTTP status an adapter answers with when this error ends a request. */
  readonly status: number;

  constructor(code: SessionErrorCode, message: string, status = 500, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/**
 * Invalid options. Thrown at construction (`createSessions`, a store factory), never per request.
 *
 * @example
 * ```ts
 * createSessions({ secrets: ['short'], store }); // throws SessionConfigError (ERR_SESSION_CONFIG)
 * ```
 */
export class SessionConfigError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SESSION_CONFIG', message, 500, options);
  }
}

/**
 * The store could not be reached or failed. Adapters answer 503; the `cause` holds the driver's error.
 *
 * @example
 * ```ts
 * throw new SessionStoreError('redis: connection refused', { cause: err });
 * ```
 */
export class SessionStoreError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SESSION_STORE_UNAVAILABLE', message, 503, options);
  }
}

/**
 * A write got no answer in time and may still be applied later (Redis: the command was sent, or
 * is queued until the client reconnects). Also a 503; an app that retries should re-read the
 * session first rather than repeat an `increment` or `push` blindly. Matches
 * `instanceof SessionStoreError` too.
 *
 * @example
 * ```ts
 * if (err instanceof SessionError && err.code === 'ERR_SESSION_OUTCOME_UNKNOWN') reloadThenRetry();
 * ```
 */
export class SessionOutcomeUnknownError extends SessionStoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, 'code', { value: 'ERR_SESSION_OUTCOME_UNKNOWN', enumerable: true });
  }
}

/**
 * A sealed cookie would exceed what browsers keep (4096 bytes for name, value and attributes).
 *
 * @example
 * ```ts
 * if (err instanceof CookieTooLargeError) console.log(err.size, err.limit);
 * ```
 */
export class CookieTooLargeError extends SessionError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super(
      'ERR_SESSION_COOKIE_TOO_LARGE',
      `the session cookie would be ${size} bytes, over the ${limit}-byte limit browsers keep; ` +
        'store less in the session or use a server-side store (sqlite, postgres, redis)',
      500,
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A state-changing request failed the CSRF check (missing or wrong token, or a cross-site origin).
 *
 * @example
 * ```ts
 * if (err instanceof CsrfError) res.status(403);
 * ```
 */
export class CsrfError extends SessionError {
  constructor(message = 'CSRF check failed') {
    super('ERR_SESSION_CSRF', message, 403);
  }
}

/**
 * The session was used in a way its lifecycle does not allow (e.g. changed after it was committed).
 *
 * @example
 * ```ts
 * session.set('x', 1); // after the response was sent: throws SessionStateError
 * ```
 */
export class SessionStateError extends SessionError {
  constructor(message: string) {
    super('ERR_SESSION_STATE', message, 500);
  }
}

/**
 * Every error tessera throws on purpose, as a union that narrows on `code`: in
 * `switch (err.code)` each case reaches its subclass's own fields.
 *
 * @example
 * ```ts
 * function status(err: AnySessionError): number {
 *   switch (err.code) {
 *     case 'ERR_SESSION_COOKIE_TOO_LARGE': console.warn(err.size, err.limit); return 500; // typed fields
 *     case 'ERR_SESSION_STORE_UNAVAILABLE': return 503;
 *     default: return err.status;
 *   }
 * }
 * ```
 */
export type AnySessionError =
  | (SessionConfigError & { readonly code: 'ERR_SESSION_CONFIG' })
  | (SessionStoreError & { readonly code: 'ERR_SESSION_STORE_UNAVAILABLE' })
  | (CookieTooLargeError & { readonly code: 'ERR_SESSION_COOKIE_TOO_LARGE' })
  | (CsrfError & { readonly code: 'ERR_SESSION_CSRF' })
  | (SessionStateError & { readonly code: 'ERR_SESSION_STATE' });

/**
 * Is `err` one of tessera's errors? Narrows to {@link AnySessionError}, so `err.code` switches.
 *
 * @example
 * ```ts
 * if (isSessionError(err) && err.code === 'ERR_SESSION_COOKIE_TOO_LARGE') console.log(err.size);
 * ```
 */
export function isSessionError(err: unknown): err is AnySessionError {
  return err instanceof SessionError;
}
