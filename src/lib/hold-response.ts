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
): { release(): void } {
  const own = new Map<Held, unknown>();
  for (const name of HELD) own.set(name, Object.hasOwn(res, name) ? res[name] : undefined);
  const queue: Array<[Held, unknown[]]> = [];
  let started = false;

  const restore = () => {
    for (const name of HELD) {
      const previous = own.get(name);
      if (previous === undefined) delete (res as unknown as Record<string, unknown>)[name];
      else (res as unknown as Record<string, unknown>)[name] = previous;
    }
  };

  for (const name of HELD) {
    (res as unknown as Record<string, unknown>)[name] = function held(...args: unknown[]) {
      queue.push([name, args]);
      if (!started) {
        started = true;
        commit().then(
          ({ headers }) => {
            restore();
            if (!res.headersSent) applyHeaders(res, headers);
            for (const [method, params] of queue)
              (res[method] as (...a: unknown[]) => unknown)(...params);
          },
          (err: unknown) => {
            restore();
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
        restore();
        queue.length = 0;
      }
    },
  };
}
