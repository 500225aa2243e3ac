/**
 * The `Vary` value after adding `value` (always `Cookie` here) to what a response already has:
 * `undefined` when nothing changes, because `*` or the value is already listed.
 */
export function mergeVary(current: string | undefined, value: string): string | undefined {
  if (!current) return value;
  const listed = current.split(',').map((v) => v.trim().toLowerCase());
  if (listed.includes('*') || listed.includes(value.toLowerCase())) return undefined;
  return `${current}, ${value}`;
}
