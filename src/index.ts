/**
 * tessera: session management for TypeScript web servers.
 *
 * @example
 * ```ts
 * import { createSessions, memoryStore } from 'tessera-session';
 * const sessions = createSessions({ secrets: [process.env.SESSION_SECRET!], store: memoryStore() });
 * ```
 * @module
 */
export {
  CookieTooLargeError,
  CsrfError,
  SessionConfigError,
  SessionError,
  type SessionErrorCode,
  SessionStateError,
  SessionStoreError,
} from './errors.ts';
export type { SessionEvent } from './events.ts';
export type {
  CommitOptions,
  CommitResult,
  RequestInfo,
  RequestSession,
  SessionInfo,
  Sessions,
} from './manager.ts';
export { type CookieOptions, defaults, type SessionsOptions } from './options.ts';
export {
  type AppSessionData,
  type ArrayKeys,
  type Flash,
  type NumberKeys,
  Session,
  type SessionData,
  type SessionTypes,
} from './session.ts';
export { createSessions } from './sessions.ts';
export type {
  AtomicOp,
  JsonValue,
  RevocationList,
  SealCodec,
  SealedPayload,
  SealedStore,
  SessionDelta,
  SessionMeta,
  SessionRecord,
  SessionStore,
  StoredSession,
} from './store.ts';
export { type CachedStoreOptions, cachedStore } from './stores/cached.ts';
export { type CookieStoreOptions, cookieStore } from './stores/cookie.ts';
export { type MemoryStoreOptions, memoryStore } from './stores/memory.ts';
export { revocationList } from './stores/revocation-list.ts';
