import { SessionError, SessionStoreError } from '../errors.ts';

/** What an adapter reports when a commit fails: the store's own typed error, or a 503 one. */
export function asSessionError(err: unknown): SessionError {
  return err instanceof SessionError
    ? err
    : new SessionStoreError('session commit failed', { cause: err });
}

/** Run a store call; anything but a SessionError becomes ERR_SESSION_STORE_UNAVAILABLE. */
export async function guard<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof SessionError) throw err;
    throw new SessionStoreError(`session store failed during ${what}`, { cause: err });
  }
}
