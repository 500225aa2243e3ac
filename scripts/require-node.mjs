// Runs before the npm scripts, on whatever Node runs it (plain JavaScript, so Node 20 reads it
// too): an unsupported Node gets one line naming what was found, what is needed and how to get
// it, instead of Node's own ERR_UNKNOWN_FILE_EXTENSION on the first `.ts` file.
import { readFileSync } from 'node:fs';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const floor = engines.node.replace(/^>=\s*/, '');
const need = floor.split('.').map(Number);
const have = process.versions.node.split('.').map(Number);
const older = need[0] !== have[0] ? have[0] < need[0] : (have[1] ?? 0) < (need[1] ?? 0);
if (older) {
  console.error(
    `tessera-session: Node ${process.version} found, Node ${floor} or newer needed (it runs TypeScript ` +
      'directly): run `npm install` so the pinned Node 24 dev dependency is used, or install ' +
      'Node 24 LTS (https://nodejs.org, or `nvm install 24`).',
  );
  process.exit(1);
}
