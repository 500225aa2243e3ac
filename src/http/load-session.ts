import { SessionConfigError } from '../errors.ts';
import type { Sessions } from '../lifecycle/sessions.ts';
import type { Session } from '../session/session.ts';

/**
 * The lazy session getter every adapter hands out (`req.session`, `c.var.session`, the node
 * handler's third argument): one store read on its first call, the same object after, and no
 * store I/O at all for a request that never calls it.
 *
 * @example
 * ```ts
 * async function cartOf(load: LoadSession<{ cart: string[] }>) { return (await load()).get('cart') ?? []; }
 * ```
 */
export type LoadSession<Data extends object> = () => Promise<Session<Data>>;

/**
 * The start-up check of an adapter's `sessions` argument: a missing or wrong one is a
 * configuration error at start-up, naming the adapter, not a crash on the first request.
 *
 * @example
 * ```ts
 * assertSessions(sessions, 'tessera-session/koa: sessionMiddleware(sessions)');
 * ```
 */
export function assertSessions<Data extends object>(
  sessions: Sessions<Data> | undefined,
  where: string,
): asserts sessions is Sessions<Data> {
  if (typeof (sessions as { request?: unknown } | undefined)?.request !== 'function')
    throw new SessionConfigError(
      `${where} needs the object createSessions() returns (got ${sessions === null ? 'null' : typeof sessions})`,
    );
}
