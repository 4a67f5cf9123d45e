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
mapfile -t files < <(find test/unit test/integration -name '*.test.ts' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
export MLW_TEST_ARTIFACTS="${MLW_TEST_ARTIFACTS:-$root/.test-work/artifacts}"
mkdir -p "$MLW_TEST_ARTIFACTS"
node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"

if [ "$quick" = false ]; then
  # One editor at a time: each code-server + Chromium session alone keeps both cores busy. (A view
  # that "never rendered" on 2026-11-23 turned out to be a row below a crowded pane's fold: see
  # openViewContainer in test/e2e/support/workbench.ts.)
  step "end-to-end tests (real VS Code), one file at a time"
  mapfile -t e2e < <(find test/e2e -name '*.test.ts' 2>/dev/null | sort)
  node --import tsx --test --test-reporter=spec --test-concurrency=1 "${e2e[@]}"
fi
