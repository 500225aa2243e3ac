/**
 * After `npm run build`: every subpath in package.json's exports map must point at a built file
 * with its type declarations, and import without error by its public name (package
 * self-reference), so a published package can never ship a dangling subpath.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
};
let failures = 0;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  const keys = Object.keys(target);
  if (keys[0] !== 'types') {
    console.error(`${subpath}: "types" must come first in the conditions`);
    failures++;
  }
  for (const file of [target.types, target.default]) {
    if (!existsSync(new URL(`../${file}`, import.meta.url))) {
      console.error(`${subpath}: ${file} does not exist`);
      failures++;
    }
  }
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  try {
    const mod = (await import(specifier)) as Record<string, unknown>;
    if (Object.keys(mod).length === 0) throw new Error('exports nothing');
    console.log(`ok  ${specifier.padEnd(20)} ${Object.keys(mod).join(', ')}`);
  } catch (err) {
    console.error(`${specifier}: ${(err as Error).message}`);
    failures++;
  }
}
// A consumer's view: a TypeScript project importing every subpath type-checks against dist/,
// and the types are real (a deliberate mistake must be caught, which `any` would let through).
const consumer = mkdtempSync(join(tmpdir(), 'tessera-consumer-'));
mkdirSync(join(consumer, 'node_modules'));
symlinkSync(root, join(consumer, 'node_modules', pkg.name));
writeFileSync(
  join(consumer, 'package.json'),
  JSON.stringify({ name: 'consumer', type: 'module', private: true }),
);
const imports = Object.keys(pkg.exports)
  .filter((s) => s !== './package.json')
  .map(
    (s, i) =>
      `import * as m${i} from '${s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`}';\nvoid m${i};`,
  )
  .join('\n');
writeFileSync(
  join(consumer, 'index.ts'),
  `${imports}\nimport { createSessions, memoryStore } from '${pkg.name}';\n` +
    `const s = createSessions<{ n: number }>({ secrets: ['x'.repeat(32)], store: memoryStore() });\n` +
    `export async function f() { const x = await s.request({}).session();\n  // @ts-expect-error n is a number\n  x.set('n', 'text');\n}\n`,
);
writeFileSync(
  join(consumer, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(root, 'node_modules/@types')],
    },
    files: ['index.ts'],
  }),
);
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer],
  { encoding: 'utf8' },
);
// An error inside a third-party declaration package (e.g. @types/koa 3 naming an `Options` that
// content-disposition 1's own types no longer have) is that package's, not ours: reported, not
// failed. Errors in tessera's declarations or in the consumer's code fail the check.
const errorFiles = [...`${tsc.stdout}`.matchAll(/^(\S[^(\n]*)\(\d+,\d+\): error/gm)].map(
  (m) => m[1]!,
);
const foreignOnly =
  tsc.status !== 0 &&
  errorFiles.length > 0 &&
  errorFiles.every(
    (f) => /(^|\/)node_modules\//.test(f) && !f.includes(`node_modules/${pkg.name}/`),
  );
if (tsc.status === 0 || foreignOnly) {
  if (foreignOnly) console.log(`note: errors in third-party declarations only:\n${tsc.stdout}`);
  console.log('ok  a TypeScript consumer type-checks against every subpath');
} else {
  console.error(`a TypeScript consumer does not type-check:\n${tsc.stdout}${tsc.stderr}`);
  failures++;
}
rmSync(consumer, { recursive: true, force: true });

if (failures > 0) {
  console.error(`${failures} export problem(s)`);
  process.exit(1);
}
