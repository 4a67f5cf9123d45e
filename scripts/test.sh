#!/usr/bin/env bash
# The one test command (`npm test`): installs and starts whatever the tests need if it is missing
# (node modules, Docker Engine and local images, Chromium, code-server), builds, type-checks, lints,
# then runs every test in one node:test run.
#   --quick   skip system setup and the end-to-end tier (unit + integration only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=false
for arg in "$@"; do
  case "$arg" in
    --quick) quick=true ;;
    *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
  esac
done
step() { printf '\n==> %s\n' "$*"; }

step "node modules"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

if [ "$quick" = false ]; then
  # In dependency order; each script is idempotent and does nothing when its component is ready.
  for name in docker images chromium code-server postgres; do
    setup="scripts/setup/$name.sh"
    [ -f "$setup" ] || continue
    step "setup: $name"
    bash "$setup"
  done
fi

step "build"
node scripts/build.mjs

step "type-check"
npx tsc -p tsconfig.json --noEmit

step "lint"
npx eslint --max-warnings 0 .

step "tests"
tiers=(test/unit test/integration)
[ "$quick" = false ] && tiers+=(test/e2e)
mapfile -t files < <(find "${tiers[@]}" -name '*.test.ts' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
export MLW_TEST_ARTIFACTS="${MLW_TEST_ARTIFACTS:-$root/.test-work/artifacts}"
mkdir -p "$MLW_TEST_ARTIFACTS"
node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
