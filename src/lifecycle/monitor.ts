/**
 * Every call to a store goes through one monitor: anything a store throws that is not a
 * `SessionError` becomes `ERR_SESSION_STORE_UNAVAILABLE`, and the first failure of an outage and
 * the first success after it are reported once each (an outage is otherwise invisible in the
 * logs: the adapters answer 503 and write nothing).
 * @internal
 */
import { SessionError, SessionStoreError } from '../errors.ts';

export interface StoreMonitor {
  call<T>(what: string, run: () => Promise<T>): Promise<T>;
}

export function storeMonitor(
  down: (what: string, error: SessionError) => void,
  up: () => void,
): StoreMonitor {
  let failing = false;
  return {
    async call(what, run) {
      let result: Awaited<ReturnType<typeof run>>;
      try {
        result = await run();
      } catch (err) {
        const error =
          err instanceof SessionError
            ? err
            : new SessionStoreError(`session store failed during ${what}`, { cause: err });
        if (!failing && error.code === 'ERR_SESSION_STORE_UNAVAILABLE') {
          failing = true;
          down(what, error);
        }
        throw error;
      }
      if (failing) {
        failing = false;
        up();
      }
      return result;
    },
  };
}
