import type { Request, RequestHandler } from 'express';
import type { Session } from '../session/session.ts';
import type { ExpressSessionBridge } from './express-session.ts';

/**
 * Options of {@link migrateExpressSession}.
 *
 * @example
 * ```ts
 * app.use(migrateExpressSession(bridge, { load: (req) => req.session() }));
 * ```
 */
export interface MigrateExpressSessionOptions {
  /**
   * How to load this request's tessera session. Default `req.session()` (tessera's Express
   * middleware); pass another when tessera's getter sits on another property.
   */
  readonly load?: (req: Request) => Promise<Session<object>>;
}

/**
 * Express middleware for {@link ExpressSessionBridge}: use it right after tessera's
 * `sessionMiddleware`. A request without the old cookie passes straight through (no store
 * read); one with it has its old session copied into tessera's, the old cookie expired, and the
 * old record deleted once the response finished with a status below 500. An old store that
 * fails is passed to Express's error handling (answer it with `sessionErrors()` or your own).
 *
 * @example
 * ```ts
 * import { migrateExpressSession, expressSessionBridge } from 'tessera-session/migrate';
 *
 * app.use(sessionMiddleware(sessions));
 * app.use(migrateExpressSession(expressSessionBridge({ store: oldStore, secret: process.env.OLD_SECRET! })));
 * ```
 */
export function migrateExpressSession(
  bridge: ExpressSessionBridge,
  options: MigrateExpressSessionOptions = {},
): RequestHandler {
  const { load = (req: Request) => req.session() as Promise<Session<object>> } = options;
  return async function tesseraMigrateExpressSession(req, res, next) {
    if (!bridge.carries(req.headers.cookie)) return next();
    try {
      const moved = await bridge.migrate(req.headers.cookie, await load(req));
      if (moved) {
        res.append('set-cookie', moved.expireCookie);
        res.once('finish', () => {
          if (res.statusCode < 500) void moved.deleteOld();
        });
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
