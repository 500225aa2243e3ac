import type { LoadSession } from 'tessera-session/http';
import type { Data } from './lib/server/sessions';

declare global {
  namespace App {
    interface Locals {
      /** This request's session, loaded on first call (set in hooks.server.ts). */
      session: LoadSession<Data>;
    }
    /** What `error()` carries: tessera's `{ error: code, message }` for its own refusals. */
    interface Error {
      message: string;
      error?: string;
    }
  }
}
