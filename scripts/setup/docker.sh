#!/usr/bin/env bash
# Installs Debian's Docker Engine if missing and starts it if it is not answering.
# The machines here have no bridge networking: the engine runs with --iptables=false --bridge=none
# and containers use NetworkMode 'none' (training needs no network).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then log "docker engine: answering"; exit 0; fi
command -v dockerd >/dev/null 2>&1 || apt_install docker.io
mkdir -p /var/log
log "starting dockerd (log: /var/log/mlw-dockerd.log)"
# setsid + nohup: the engine must outlive this script and the test run that started it.
as_root setsid nohup dockerd --storage-driver=overlay2 --iptables=false --bridge=none \
  >/var/log/mlw-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then log "docker engine: up"; exit 0; fi
  sleep 0.5
done
log "dockerd did not answer within 60 s; last lines of its log:"; tail -20 /var/log/mlw-dockerd.log >&2
exit 1
