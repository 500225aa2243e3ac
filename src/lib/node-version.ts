/**
 * The floor `engines` states, checked where an older Node would otherwise fail with Node's own
 * puzzle (`No such built-in module: node:sqlite` on Node 20): one line naming the version found,
 * the version needed and how to get it.
 */
export const NODE_FLOOR = '22.18';

export function requireNode(feature: string): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = NODE_FLOOR.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return;
  throw new Error(
    `${feature} needs Node ${NODE_FLOOR} or newer, found ${process.version}: ` +
      'install Node 24 LTS (https://nodejs.org, or `nvm install 24`)',
  );
}
