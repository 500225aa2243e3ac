/** Run the code in the docs as written: find a `ts` block, and a free port to serve it on. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first ```ts block under the `## heading` of a markdown file (path from the repo root). */
export function tsBlockAfter(file: string, heading: string): string {
  const doc = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const at = doc.indexOf(`\n## ${heading}\n`);
  if (at === -1) throw new Error(`${file} has no "## ${heading}" section`);
  const match = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!match) throw new Error(`no ts block under "## ${heading}" in ${file}`);
  return match[1]!;
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
