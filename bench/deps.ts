/**
 * `npm run bench:deps`: the bench's set-up. Installs bench/'s own packages from its lockfile and
 * makes sure the wrk load generator is there (apt-get as root, otherwise a message says how).
 *
 * better-sqlite3 (under the better-sqlite3-session-store peer row) is a native module: it is built
 * against the headers of the Node running this script (`--nodedir`), so an npm configured with
 * another Node's headers (`nodedir=/usr` on a machine whose system Node is older) does not leave a
 * module that the bench's Node cannot load. Skipped when bench/node_modules is already what the
 * lockfile says.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWrk } from './run.ts';

const bench = fileURLToPath(new URL('.', import.meta.url));

/**
 * Whether bench/node_modules already holds exactly the lockfile's packages (npm's own record of
 * what it installed, node_modules/.package-lock.json) and better-sqlite3 loads on this Node: then
 * `npm ci` (which rebuilds better-sqlite3, about a minute) is skipped.
 */
function upToDate(): boolean {
  try {
    type Lock = { packages: Record<string, { version?: string }> };
    const want = JSON.parse(readFileSync(join(bench, 'package-lock.json'), 'utf8')) as Lock;
    const have = JSON.parse(
      readFileSync(join(bench, 'node_modules', '.package-lock.json'), 'utf8'),
    ) as Lock;
    const names = Object.keys(want.packages).filter((name) => name !== '');
    if (names.length !== Object.keys(have.packages).length) return false;
    if (names.some((name) => have.packages[name]?.version !== want.packages[name]?.version)) {
      return false;
    }
    const probe = spawnSync(
      process.execPath,
      ['-e', "new (require('better-sqlite3'))(':memory:').close()"],
      { cwd: bench },
    );
    return probe.status === 0;
  } catch {
    return false;
  }
}

/**
 * A folder holding this Node's headers (`include/node`): the install prefix of the binary, or, for
 * the `node` npm package that `npm run` puts first on PATH (bin/node beside its
 * node_modules/node-<platform>-<arch>), that package's platform folder.
 */
function nodeDir(): string | null {
  const bin = realpathSync(process.execPath);
  const candidates = [
    dirname(dirname(bin)),
    join(dirname(dirname(bin)), 'node_modules', `node-${process.platform}-${process.arch}`),
  ];
  const major = process.versions.node.split('.')[0];
  for (const dir of candidates) {
    try {
      const version = readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8');
      if (version.includes(`#define NODE_MAJOR_VERSION ${major}\n`)) return dir;
    } catch {
      // not this one
    }
  }
  return null;
}

if (!upToDate()) {
  const args = ['--prefix', bench, 'ci', '--no-audit', '--no-fund'];
  const dir = nodeDir();
  if (dir) args.push(`--nodedir=${dir}`);
  const npm = spawnSync('npm', args, { stdio: 'inherit' });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
}
ensureWrk((line) => console.log(line));
