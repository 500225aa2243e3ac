/** `createSessions`: see `src/lifecycle/sessions.ts`. Kept as the import path tests and adapters use. */
export { createSessions, type SessionInfo, type Sessions } from './lifecycle/sessions.ts';
