import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // tessera-session is installed from ../.. (file:): let Turbopack read files up there.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
  // node:sqlite and the library stay outside the bundle, loaded by Node as written.
  serverExternalPackages: ['tessera-session'],
};
export default config;
