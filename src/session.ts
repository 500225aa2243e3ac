/** The session a handler sees: see `src/session/`. Kept as the import path the adapters use. */
export { EXEMPT, type LoginOptions, Session } from './session/session.ts';
export type { Change, SessionState } from './session/state.ts';
export type {
  AppSessionData,
  ArrayKeys,
  Flash,
  NumberKeys,
  SessionData,
  SessionTypes,
} from './session/types.ts';
