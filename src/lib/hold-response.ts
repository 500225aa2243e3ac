import type { ServerResponse } from 'node:http';
import type { SessionError } from '../errors.ts';
import { mergeVary } from './vary.ts';
import { sessionErrorBody } from './web-response.ts';

type Held = 'writeHead' | 'write' | 'end' | 'flushHeaders';
const HELD: readonly Held[] = ['writeHead', 'write', 'end', 'flushHeaders'];

/** Add tessera's headers: Set-Cookie appended, Vary merged, Cache-Control replaced. */
export function applyHeaders(
  res: ServerResponse,
  headers: ReadonlyArray<readonly [string, string]>,
): void {
  for (const [name, value] of headers) {
    if (name === 'set-cookie') res.appendHeader('set-cookie', value);
    else if (name === 'vary') {
      const current = res.getHeader('vary');
      const vary = mergeVary(current === undefined ? undefined : String(current), value);
      if (vary !== undefined) res.setHeader('vary', vary);
    } else res.setHeader(name, value);
  }
}

/** Answer with a session error: headers the handler set are dropped, the status is the error's. */
export function sendSessionError(res: ServerResponse, err: SessionError): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = err.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(sessionErrorBody(err));
}

/**
 * node:http has no hook before the response head is written, so (as express-session does) the
 * response's writing methods are held on this one response object: the first call starts the
 * commit, every call is queued, and once the commit is done the headers are added and the calls
 * replayed in order. A failed commit drops the handler's response for the error's (a 503 when
 * the store is down), so a client is never told "saved" when nothing was.
 */
export function holdUntilCommitted(
  res: ServerResponse,
  commit: () => Promise<{ readonly headers: ReadonlyArray<readonly [string, string]> }>,
  onError: (err: unknown) => void,
  /** The commit when it needs no store I/O (a plain read), so the response goes out at once. */
  commitIfIdle?: () => { readonly headers: ReadonlyArray<readonly [string, string]> } | undefined,
): { release(): void } {
  const target = res as unknown as Record<Held, (...args: unknown[]) => unknown>;
  const queue: Array<[number, unknown[]]> = [];
  let started = false;
  // Once the commit is done the wrappers pass every call straight through to the method that was
  // there before (the prototype's, or another middleware's wrapper) rather than being deleted:
  // deleting properties turns each response into a slow "dictionary" object for the rest of its
  // life, which cost node:http a quarter of its read throughput in bench/.
  let open = false;

  for (let i = 0; i < HELD.length; i++) {
    const name = HELD[i]!;
    const previous = target[name];
    target[name] = function held(this: unknown, ...args: unknown[]) {
      if (open) return previous.apply(this, args);
      if (!started) {
        const idle = commitIfIdle?.();
        if (idle) {
          started = true;
          open = true;
          if (idle.headers.length > 0 && !res.headersSent) applyHeaders(res, idle.headers);
          return previous.apply(this, args);
        }
      }
      queue.push([i, args]);
      if (!started) {
        started = true;
        commit().then(
          ({ headers }) => {
            open = true;
            if (!res.headersSent) applyHeaders(res, headers);
            for (const [method, params] of queue) target[HELD[method]!](...params);
            queue.length = 0;
          },
          (err: unknown) => {
            open = true;
            queue.length = 0;
            onError(err);
          },
        );
      }
      return name === 'write' ? true : res;
    };
  }
  // For an answer that replaces the handler's (an error): stop holding, and never commit.
  return {
    release() {
      if (!started) {
        started = true;
        open = true;
        queue.length = 0;
      }
    },
  };
}
