import { SessionConfigError } from '../errors.ts';

/**
 * A duration: milliseconds, or a string such as `"30m"`, `"12h"`, `"7d"`, `"1h30m"`, `"500ms"`.
 *
 * @example
 * ```ts
 * const idle: Duration = '30m'; // the same as 1_800_000
 * ```
 */
export type Duration = number | string;

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;

/** Parse a {@link Duration} to milliseconds; throws `ERR_SESSION_CONFIG` naming `option`. */
export function parseDuration(value: Duration, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    let total = 0;
    let at = 0;
    PART.lastIndex = 0;
    while (at < text.length) {
      PART.lastIndex = at;
      const match = PART.exec(text);
      if (!match) break;
      total += Number(match[1]) * UNITS[match[2]!]!;
      at = PART.lastIndex;
      while (text[at] === ' ') at++;
    }
    if (at === text.length && text.length > 0) return total;
  }
  throw new SessionConfigError(
    `${option} must be milliseconds or a duration string like "30m", "12h", "7d" or "1h30m"; got ${JSON.stringify(value)}`,
  );
}
