/**
 * Every public export has TSDoc with an `@example` (STYLE.md). Reads the built declarations of
 * each subpath in the exports map, follows re-exports, and lists exports without one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, string | { types: string }>;
};

/** name -> has @example, for the declarations exported by one .d.ts file (following re-exports). */
function exportsOf(file: string, seen = new Set<string>()): Map<string, boolean> {
  const out = new Map<string, boolean>();
  if (seen.has(file) || !existsSync(file)) return out;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const declared =
    /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?export (?:declare )?(?:abstract )?(?:function|class|interface|type|const|let) (\w+)/g;
  for (const m of text.matchAll(declared)) {
    const name = m[2]!;
    out.set(name, (out.get(name) ?? false) || (m[1] ?? '').includes('@example'));
  }
  for (const m of text.matchAll(/export (?:type )?\{([^}]*)\} from '([^']+)'/g)) {
    const names = m[1]!
      .split(',')
      .map((n) => n.trim().replace(/^type /, ''))
      .filter(Boolean);
    const target = resolve(dirname(file), m[2]!.replace(/\.(js|ts)$/, '.d.ts'));
    const inner = exportsOf(target, seen);
    for (const entry of names) {
      const [original, alias] = entry.split(/\s+as\s+/);
      out.set(alias ?? original!, inner.get(original!) ?? false);
    }
  }
  return out;
}

const missing: string[] = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  for (const [name, documented] of exportsOf(resolve(root, target.types))) {
    if (!documented) missing.push(`${subpath} ${name}`);
  }
}
if (missing.length > 0) {
  console.error(
    `public exports without TSDoc @example (${missing.length}):\n  ${missing.join('\n  ')}`,
  );
  process.exit(1);
}
console.log('every public export has TSDoc with an @example');
