/**
 * One run of `task` at a time: a call while it runs makes it go round once more when it ends
 * (so work that arrived meanwhile is not left waiting), and resolves with that run. Used for the
 * SQL stores' reap of revoked rows, which every revocation starts; `settled` is for `close()`.
 * @internal
 */
export function singleFlight(
  task: () => Promise<void>,
  stopped: () => boolean,
): { start(): Promise<void>; settled(): Promise<void> } {
  let running: Promise<void> | null = null;
  let again = false;
  const start = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task();
        } while (again && !stopped());
      } finally {
        running = null;
      }
    })();
    return running;
  };
  /** Resolves when no run is going on (a failed run included). */
  const settled = async () => {
    await running?.catch(() => {});
  };
  return { start, settled };
}
