/**
 * After `npm run build`: the package as a user gets it. `npm pack` contents (what must be in,
 * what must stay out), publint and arethetypeswrong on the packed tarball (both local, no
 * network), `typesVersions` covering every subpath, and a CommonJS TypeScript consumer (the
 * classic NestJS `"module": "commonjs"` setup) resolving every subpath's types.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions?: Record<string, Record<string, string[]>>;
};
let failures = 0;
const fail = (message: string) => {
  console.error(message);
  failures++;
};
const run = (command: string, args: string[], cwd = root) =>
  spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_fund: 'false' },
  });

// 1. What `npm pack` would publish.
const pack = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']);
if (pack.status !== 0) fail(`npm pack --dry-run failed:\n${pack.stderr}`);
else {
  const [info] = JSON.parse(pack.stdout) as { files: { path: string }[]; size: number }[];
  const files = info!.files.map((f) => f.path);
  for (const needed of [
    'LICENSE',
    'README.md',
    'CHANGELOG.md',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
  ]) {
    if (!files.includes(needed)) fail(`npm pack: ${needed} is missing from the tarball`);
  }
  for (const file of files) {
    if (/^(docs\/screenshots|test|bench|demo|scripts|data)\/|\.png$/.test(file)) {
      fail(`npm pack: ${file} should not be published (see "files" in package.json)`);
    }
  }
  console.log(`ok  npm pack: ${files.length} files, ${Math.round(info!.size / 1024)} kB packed`);
}

// 2. typesVersions: the map `"moduleResolution": "node"` (CommonJS projects) reads instead of exports.
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === '.' || typeof target === 'string') continue;
  const want = target.types.replace(/^\.\//, '');
  const got = pkg.typesVersions?.['*']?.[subpath.slice(2)];
  if (got?.[0] !== want) {
    fail(
      `package.json typesVersions["*"]["${subpath.slice(2)}"] must be ["${want}"] (as exports["${subpath}"].types)`,
    );
  }
}

// 3. publint and arethetypeswrong, both from node_modules (they run offline).
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const publint = run(bin('publint'), ['--strict']);
if (publint.status !== 0) fail(`publint:\n${publint.stdout}${publint.stderr}`);
else console.log('ok  publint --strict');
// ESM-only by design: a CommonJS `require` gets the ESM build through Node's require(esm)
// (unflagged in every supported Node), which attw's node16-cjs view reports as a problem.
const attw = run(bin('attw'), [
  '--pack',
  '.',
  '--ignore-rules',
  'cjs-resolves-to-esm',
  '--format',
  'ascii',
]);
if (attw.status !== 0) fail(`arethetypeswrong:\n${attw.stdout}${attw.stderr}`);
else console.log('ok  arethetypeswrong (ESM-only: cjs-resolves-to-esm ignored)');

// 4. CommonJS TypeScript consumers: a NestJS-style `"module": "commonjs"` (its default resolution;
// the TypeScript 5 `node10` view is attw's above) and a `nodenext` CommonJS package.
const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
for (const [moduleKind, resolution] of [
  ['commonjs', null],
  ['nodenext', 'nodenext'],
] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cjs-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', pkg.name));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'cjs-consumer', private: true }),
    );
    const imports = subpaths
      .map(
        (s, i) =>
          `import type * as m${i} from '${s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`}';\nexport type T${i} = typeof m${i};`,
      )
      .join('\n');
    writeFileSync(
      join(dir, 'index.ts'),
      `${imports}\nimport type { SessionError } from '${pkg.name}';\nexport type Code = SessionError['code'];\n`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: moduleKind,
          ...(resolution ? { moduleResolution: resolution } : {}),
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          esModuleInterop: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['index.ts'],
      }),
    );
    const tsc = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir]);
    if (tsc.status === 0)
      console.log(
        `ok  a CommonJS TypeScript consumer (module ${moduleKind}, moduleResolution ${resolution ?? 'default'}) resolves every subpath`,
      );
    else
      fail(
        `a CommonJS consumer (module ${moduleKind}, moduleResolution ${resolution ?? 'default'}) does not type-check:\n${tsc.stdout}${tsc.stderr}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (failures > 0) {
  console.error(`${failures} package problem(s)`);
  process.exit(1);
}
