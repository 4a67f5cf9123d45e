#!/usr/bin/env bash
# `npm run bench [NAME…]`: every benchmark under bench/ (or the ones named: git, data, runs, …),
# after starting what they need (Docker Engine, local images) and building dist/. Each script
# prints its figures side by side with its peer; bench/RESULTS.md records them with the date and
# the machine's load. Benchmarks share the machine: run them when nothing else is busy (`uptime`).
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(find bench -maxdepth 1 -name '*.ts' -printf '%f\n' | sed 's/\.ts$//' | sort)
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/setup/docker.sh
bash scripts/setup/images.sh
node scripts/build.mjs
for name in "${names[@]}"; do
  printf '\n==> bench/%s.ts (load average: %s)\n' "$name" "$(cut -d' ' -f1-3 /proc/loadavg)"
  npx tsx "bench/$name.ts"
done
