/**
 * Run a store's `purge` about every `interval` ms until stopped. The delay is jittered ±10 % so
 * that app processes sharing one database do not all sweep at the same moment, each run waits
 * for the previous one to finish (a slow sweep never overlaps the next), a failed sweep is simply
 * retried at the next interval, and the timer never keeps the process alive.
 */
export function scheduleSweep(
  interval: number,
  purge: (now: number) => Promise<unknown>,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    timer = setTimeout(
      () => {
        purge(Date.now())
          .catch(() => {}) // retried at the next interval
          .finally(() => {
            if (!stopped) schedule();
          });
      },
      interval * (0.9 + Math.random() * 0.2),
    );
    timer.unref();
  };
  if (interval > 0) schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
