import { ServerResponse, validateHeaderName, validateHeaderValue } from 'node:http';
import { applyNodeHeaders } from '../http/headers.ts';
import type { CommitResult } from '../lifecycle/request.ts';
import type { RequestSession } from '../lifecycle/request-session.ts';

type Headers = CommitResult['headers'];
type Method = (...args: unknown[]) => unknown;

const HELD = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
const WRITE_HEAD = 0;
const WRITE = 1;
const END = 2;

/** Drop every header the handler set, keeping the session's (the store and the cookie agree). */
export function resetHeaders(res: ServerResponse, keep: Headers = []): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  applyNodeHeaders(res, keep);
}

/** What a held response does when something goes wrong after the handler wrote. */
export interface HoldHandlers {
  /** The commit failed (a store outage): answer the error instead of the handler's response. */
  readonly commitFailed: (err: unknown) => void;
  /**
   * A held call threw when it was replayed (Node validates header values in `writeHead`): that
   * request's 500. The rest of the held calls are dropped.
   */
  readonly replayFailed: (err: unknown) => void;
}

/** The handle a held response gives its adapter. */
export interface Hold {
  /**
   * The handler failed: commit nothing that has not started, drop its held writes, and call
   * `answer` once any commit in flight has settled, with the headers that commit produced
   * (so the cookie still names what the store holds; none when nothing was committed, or when
   * the commit already ran and its headers are on the response).
   */
  abort(answer: (headers: Headers) => void): void;
}

/**
 * What Node would throw at once for these `writeHead` arguments, thrown at once: a held call
 * runs later, where its error would otherwise reach no handler (an invalid header value taken
 * from the query string was enough to crash the process). Thrown in the handler, it takes the
 * handler's own error path, and nothing is committed.
 */
function checkWriteHead(args: unknown[]): void {
  const status = args[0];
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    const err = new RangeError(`Invalid status code: ${String(status)}`);
    (err as { code?: string }).code = 'ERR_HTTP_INVALID_STATUS_CODE';
    throw err;
  }
  const headers = typeof args[1] === 'string' ? args[2] : args[1];
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    // [name, value, name, value] or [[name, value], …]
    const flat = headers.length > 0 && !Array.isArray(headers[0]);
    for (let i = 0; i < headers.length; i += flat ? 2 : 1) {
      const [name, value] = flat ? [headers[i], headers[i + 1]] : (headers[i] as unknown[]);
      validateHeaderName(String(name));
      validateHeaderValue(String(name), value as string);
    }
    return;
  }
  for (const name of Object.keys(headers)) {
    validateHeaderName(name);
    const value = (headers as Record<string, unknown>)[name];
    if (value !== undefined) validateHeaderValue(name, value as string);
  }
}

/** What Node throws at once for a chunk it cannot write (a number, an object). */
function checkChunk(chunk: unknown, optional: boolean): void {
  if (typeof chunk === 'string' || chunk instanceof Uint8Array) return;
  if (optional && (chunk === undefined || chunk === null || typeof chunk === 'function')) return;
  const err = new TypeError(
    'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
  );
  (err as { code?: string }).code = 'ERR_INVALID_ARG_TYPE';
  throw err;
}

const WAITING = 0;
const COMMITTING = 1;
const OPEN = 2;
const ABORTED = 3;

/**
 * node:http has no hook before the response head is written, so (as express-session does) the
 * response's writing methods are held on this one response object, from the moment the
 * middleware runs: a handler's `res.end` looked up before `session()` was called is already the
 * held one. While the session was never asked for, every call passes straight through. Once it
 * was, the first call commits (with the status the head will carry, so a 5xx commits nothing),
 * every call is queued, and once the commit is done the headers are added and the calls
 * replayed in order. A failed commit drops the handler's response for the error's (a 503 when
 * the store is down), so a client is never told "saved" when nothing was. A replayed call that
 * throws never escapes into the process: it becomes `replayFailed`.
 *
 * The wrappers are installed once and never deleted: deleting properties turns each response
 * into a slow "dictionary" object for the rest of its life (a quarter of node:http's read
 * throughput in bench/). Once open they pass every call to the method that was there before
 * (the prototype's, or another middleware's wrapper).
 */
type Rs = Pick<RequestSession<object>, 'loaded' | 'commit' | 'commitIfIdle'>;
const kHold = Symbol('tessera.hold');
type HeldTarget = ServerResponse & { [kHold]?: HeldResponse };

/**
 * One held response. The wrappers installed on the response are four shared functions that
 * find this object under a symbol: per response that is one object and five property stores,
 * not four closures (the hold is installed on every request, session or not, so it must cost
 * next to nothing on a request that never loads one).
 */
class HeldResponse implements Hold {
  readonly res: ServerResponse;
  readonly rs: Rs;
  readonly handlers: HoldHandlers;
  readonly previous: Method[];
  phase = WAITING;
  queue: Array<[number, unknown[]]> | null = null;
  answer: ((headers: Headers) => void) | null = null;

  constructor(res: ServerResponse, rs: Rs, handlers: HoldHandlers, previous: Method[]) {
    this.res = res;
    this.rs = rs;
    this.handlers = handlers;
    this.previous = previous;
  }

  call(i: number, self: unknown, args: unknown[]): unknown {
    const method = this.previous[i]!;
    if (this.phase === OPEN || (this.phase === WAITING && !this.rs.loaded))
      return method.apply(self, args);
    if (i === WRITE_HEAD) checkWriteHead(args);
    else if (i === WRITE) checkChunk(args[0], false);
    else if (i === END) checkChunk(args[0], true);
    const { res } = this;
    if (this.phase === WAITING) {
      const idle = this.rs.commitIfIdle();
      if (idle) {
        this.phase = OPEN;
        if (idle.headers.length > 0 && !res.headersSent) applyNodeHeaders(res, idle.headers);
        return method.apply(self, args);
      }
      this.phase = COMMITTING;
      this.queue = [];
      const status = i === WRITE_HEAD && typeof args[0] === 'number' ? args[0] : res.statusCode;
      this.rs
        .commit({ status })
        .then(
          (result) => this.committed(result),
          (err: unknown) => this.failed(err),
        )
        // Only reached when an error answer itself threw: end this request, never the process.
        .catch((err: unknown) => res.destroy(err instanceof Error ? err : undefined));
    }
    if (this.phase === COMMITTING) this.queue!.push([i, args]);
    return i === WRITE ? true : i === WRITE_HEAD || i === END ? res : undefined;
  }

  committed({ headers }: CommitResult): void {
    const { res } = this;
    const queue = this.queue ?? [];
    this.queue = null;
    if (this.phase === ABORTED) {
      this.phase = OPEN;
      this.answer!(headers);
      return;
    }
    this.phase = OPEN;
    if (headers.length > 0 && !res.headersSent) applyNodeHeaders(res, headers);
    try {
      for (let i = 0; i < queue.length; i++) {
        const [method, args] = queue[i]!;
        this.previous[method]!.apply(res, args);
      }
    } catch (err) {
      this.handlers.replayFailed(err);
    }
  }

  failed(err: unknown): void {
    const aborted = this.phase === ABORTED;
    this.phase = OPEN;
    this.queue = null;
    if (aborted) this.answer!([]);
    else this.handlers.commitFailed(err);
  }

  abort(onSettled: (headers: Headers) => void): void {
    if (this.phase === COMMITTING) {
      this.phase = ABORTED;
      this.answer = onSettled;
      return;
    }
    this.phase = OPEN; // from WAITING: nothing was committed, and nothing will be
    this.queue = null;
    onSettled([]);
  }
}

function through(target: unknown, i: number, args: unknown[]): unknown {
  const hold = (target as HeldTarget)[kHold];
  if (hold) return hold.call(i, target, args);
  // Called on another object than the response it was installed on: the plain method.
  const proto = ServerResponse.prototype as unknown as Record<string, Method>;
  return proto[HELD[i]!]!.apply(target, args);
}
function heldWriteHead(this: unknown, ...args: unknown[]) {
  return through(this, WRITE_HEAD, args);
}
function heldWrite(this: unknown, ...args: unknown[]) {
  return through(this, WRITE, args);
}
function heldEnd(this: unknown, ...args: unknown[]) {
  return through(this, END, args);
}
function heldFlushHeaders(this: unknown, ...args: unknown[]) {
  return through(this, 3, args);
}

export function holdResponse(res: ServerResponse, rs: Rs, handlers: HoldHandlers): Hold {
  const target = res as unknown as Record<(typeof HELD)[number], Method> & {
    [kHold]?: HeldResponse;
  };
  // The methods that were there before: the prototype's, or another middleware's wrappers.
  const previous = [target.writeHead, target.write, target.end, target.flushHeaders];
  const hold = new HeldResponse(res, rs, handlers, previous);
  target[kHold] = hold;
  target.writeHead = heldWriteHead;
  target.write = heldWrite;
  target.end = heldEnd;
  target.flushHeaders = heldFlushHeaders;
  return hold;
}
