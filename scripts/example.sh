#!/usr/bin/env bash
# The main job on the embedded defaults (`npm start`): builds the CLI, validates every DAG file in
# examples/, then runs the iris pipeline (examples/iris) end to end in containers with `mlw dag run`
# (features, both train@… expansions side by side, select_best), runs it again to show the cached
# tasks skipped, and lists the recorded runs with their metrics.
# It starts the Docker Engine and builds the local sklearn image if they are missing
# (scripts/setup/docker.sh, images.sh); where that cannot be done it says so and stops after validating.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node scripts/build.mjs
root=$(pwd)
mlw() { "$root/bin/mlw.js" "$@"; }

echo "==> mlw validate (examples/)"
(cd examples && mlw validate)

echo "==> Docker Engine and the local sklearn image"
if ! { bash scripts/setup/docker.sh && bash scripts/setup/images.sh; }; then
  echo "mlw: no Docker engine could be started here, so the example pipeline was validated but not run." >&2
  echo "     Start Docker (or set DOCKER_HOST) and run \`npm start\` again." >&2
  exit 0
fi

cd examples/iris
echo "==> mlw data pull: the iris data is a tracked dataset (data.dvc), its objects in the example's directory remote"
mlw data pull
mlw data status
echo "==> mlw dag run: features → train@rf, train@gb → select_best (examples/iris)"
mlw dag run -j 2
echo "==> mlw dag explain, then mlw dag run again: nothing changed, so every task is restored"
mlw dag explain
mlw dag run -j 2
echo "==> mlw runs list"
mlw runs list --limit 4
echo "==> build/best.json"
cat build/best.json
