#!/usr/bin/env bash
# Installs Debian's Chromium, the browser the end-to-end tests drive through playwright-core
# (`npx playwright install` cannot download a browser here). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -x /usr/bin/chromium ]; then log "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"; exit 0; fi
apt_install chromium
log "chromium: $(/usr/bin/chromium --version)"
