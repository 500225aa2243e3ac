import type { Config } from '@react-router/dev/config';

// Server rendering, with route middleware: the root's middleware wraps every request
// (document, data and action), which is where tessera loads and commits the session.
export default { ssr: true, future: { v8_middleware: true } } satisfies Config;
