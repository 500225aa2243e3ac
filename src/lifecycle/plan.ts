/**
 * The decision step of a commit, kept pure so it can be held by a table of cases
 * (`test/plan.test.ts`): from what the request did, what it must write. Executing the plan
 * (store calls, cookies) is `RequestSession`'s job, through the chosen backend.
 * @internal
 */

/**
 * - `nothing`: no write, no header.
 * - `reissue`: no write; send the cookie again (it was signed or sealed with an older secret).
 * - `touch`: extend the idle deadline (unchanged data, touch due).
 * - `update`: write the request's delta to the live record.
 * - `create`: a new record (the session now holds data or a user).
 * - `regenerate`: move the record to a new token, alive-only, with the delta.
 * - `end`: delete the record (if any) and expire the cookie (if the request sent one).
 * - `nonce`: no record; send a cookie that binds the stateless CSRF token handed out.
 */
export type Plan =
  | 'nothing'
  | 'reissue'
  | 'touch'
  | 'update'
  | 'create'
  | 'regenerate'
  | 'end'
  | 'nonce';

/** What a request did to its session, as the plan needs it. */
export interface PlanFacts {
  /** A live record came with the request. */
  readonly loaded: boolean;
  /** `destroy()` or `logout()` was called. */
  readonly ended: boolean;
  /** `regenerate()` or `login()` was called. */
  readonly regenerate: boolean;
  /** Keys were set, deleted or changed by an atomic op. */
  readonly changed: boolean;
  /** The session holds something worth a record: user data or a bound user. */
  readonly hasContent: boolean;
  /** The cookie was signed or sealed with an older secret. */
  readonly reissue: boolean;
  /** The sliding extension is due (see `expiry.touchDue`). */
  readonly touchDue: boolean;
  /** A stateless CSRF token was handed out on a session without a record, bound to a new cookie. */
  readonly nonce: boolean;
}

export function plan(f: PlanFacts): Plan {
  if (f.ended) return 'end';
  if (!f.loaded) return f.hasContent ? 'create' : f.nonce ? 'nonce' : 'nothing';
  // A regenerate of a session emptied in this request: it simply ends.
  if (f.regenerate) return f.hasContent ? 'regenerate' : 'end';
  if (f.changed) return 'update';
  if (f.touchDue) return 'touch';
  return f.reissue ? 'reissue' : 'nothing';
}
