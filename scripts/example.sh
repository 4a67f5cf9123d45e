#!/usr/bin/env bash
# The main job on the embedded defaults (`npm start`): builds the CLI if needed, then runs it on the
# example pipeline in examples/. For now that is validating every DAG file there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node scripts/build.mjs
cd examples
exec node ../bin/mlw.js validate "$@"
