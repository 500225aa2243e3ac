/** Refusing a bad configuration: every problem is a `SessionConfigError` that says how to fix it. */
import { SessionConfigError } from '../errors.ts';

export function fail(message: string): never {
  throw new SessionConfigError(message);
}

/** Refuse a key that is not an option, with what to use instead where another library takes it. */
export function refuseUnknown(
  given: object,
  known: ReadonlySet<string>,
  hints: Readonly<Record<string, string>>,
  prefix: string,
): void {
  for (const key of Object.keys(given)) {
    if (known.has(key)) continue;
    const hint = hints[key] ?? `the options are: ${[...known].join(', ')}`;
    fail(`unknown option ${prefix}${key}: ${hint}`);
  }
}
