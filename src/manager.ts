/**
 * The request lifecycle lives in `src/lifecycle/` (plan, expiry, request session, createSessions)
 * over one of `src/backends/`. This module keeps the import path the adapters use.
 */
export type {
  CommitOptions,
  CommitResult,
  Core,
  RequestInfo,
  RequestSession,
} from './lifecycle/request-session.ts';
export type { SessionInfo, Sessions } from './lifecycle/sessions.ts';
