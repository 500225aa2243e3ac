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
  type AnySessionError,
  CookieTooLargeError,
  CsrfError,
  isSessionError,
  SessionConfigError,
  SessionError,
  type SessionErrorCode,
  SessionOutcomeUnknownError,
  SessionStateError,
  SessionStoreError,
} from './errors.ts';
export type { RefusalReason, SessionEvent } from './events.ts';
export type { LoadSession } from './http/load-session.ts';
export type { Duration } from './lib/duration.ts';
export type {
  CommitOptions,
  CommitResult,
  RequestHeaders,
  RequestInfo,
} from './lifecycle/request.ts';
export type { RequestSession } from './lifecycle/request-session.ts';
export { createSessions, type SessionInfo, type Sessions } from './lifecycle/sessions.ts';
export type { SessionTransport } from './lifecycle/transport.ts';
export {
  type CookieOptions,
  defaults,
  type ResolvedCookie,
  type ResolvedOptions,
  type ResolvedToken,
  type SessionLogger,
  type SessionsOptions,
  type TokenOptions,
} from './options.ts';
export { type LoginOptions, Session } from './session/session.ts';
export type {
  AppSessionData,
  ArrayKeys,
  Flash,
  NumberKeys,
  SessionData,
  SessionTypes,
} from './session/types.ts';
export type {
  AtomicOp,
  CacheEntries,
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
