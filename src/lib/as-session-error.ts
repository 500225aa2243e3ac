import { SessionError, SessionStoreError } from '../errors.ts';

/** What an adapter reports when a commit fails: the store's own typed error, or a 503 one. */
export function asSessionError(err: unknown): SessionError {
  return err instanceof SessionError
    ? err
    : new SessionStoreError('session commit failed', { cause: err });
}
