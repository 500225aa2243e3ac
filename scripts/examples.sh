#!/usr/bin/env bash
# Install and build every example app under examples/ as a user would: `npm ci` from its
# committed lockfile (the library itself comes from ../.. by file:, so build dist/ first), then
# its own `npm run build`. test/next.test.ts (and the other examples' tests) start the builds.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.js ] || npm run build
for dir in examples/*/; do
  [ -f "$dir/package.json" ] || continue
  start=$(date +%s)
  npm --prefix "$dir" ci --no-audit --no-fund
  NEXT_TELEMETRY_DISABLED=1 npm --prefix "$dir" run build --if-present
  echo "[examples] $dir installed and built in $(( $(date +%s) - start )) s"
done
