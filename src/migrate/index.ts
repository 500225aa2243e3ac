/**
 * Ways in from other session libraries. Today: express-session.
 *
 * @example
 * ```ts
 * import { expressSessionBridge, migrateExpressSession } from 'tessera-session/migrate';
 * ```
 * @module
 */

export { type MigrateExpressSessionOptions, migrateExpressSession } from './express.ts';
export {
  type ExpressSessionBridge,
  type ExpressSessionBridgeOptions,
  type ExpressSessionRecord,
  type ExpressSessionStore,
  expressSessionBridge,
  type MigratedSession,
  type Migration,
} from './express-session.ts';
