/**
 * `npm run bench:deps`: the bench's set-up. Installs bench/'s own packages from its lockfile and
 * makes sure the wrk load generator is there (apt-get as root, otherwise a message says how).
 *
 * better-sqlite3 (under the better-sqlite3-session-store peer row) is a native module: it is built
 * against the headers of the Node running this script (`--nodedir`), so an npm configured with
 * another Node's headers (`nodedir=/usr` on a machine whose system Node is older) does not leave a
 * module that the bench's Node cannot load.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWrk } from './run.ts';

const bench = fileURLToPath(new URL('.', import.meta.url));
const prefix = dirname(dirname(process.execPath));
const args = ['--prefix', bench, 'ci', '--no-audit', '--no-fund'];
if (existsSync(join(prefix, 'include', 'node', 'node.h'))) args.push(`--nodedir=${prefix}`);
const npm = spawnSync('npm', args, { stdio: 'inherit' });
if (npm.status !== 0) process.exit(npm.status ?? 1);
ensureWrk((line) => console.log(line));
