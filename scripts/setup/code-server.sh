#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) from npm into a cache outside the repo, for the
# end-to-end tests. Recipe: /work/shared/notes/test-infrastructure.md. Idempotent: a stamp file
# marks a finished install; a half-finished one is redone.
#   Install dir: $MLW_CODE_SERVER_DIR, default ${XDG_CACHE_HOME:-~/.cache}/mlw/code-server-<version>
#   The binary:  <install dir>/node_modules/.bin/code-server
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# 4.100.3 (VS Code 1.100.3) is the newest code-server that runs on Node 20.
version=4.100.3
# The @vscode/ripgrep that code-server@4.100.3 pins (lib/vscode/npm-shrinkwrap.json), and the
# ripgrep release its postinstall downloads from GitHub (unreachable here) unless it finds it cached.
ripgrep_pkg_version=1.15.11
ripgrep_asset=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

dir="${MLW_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlw/code-server-$version}"
stamp="$dir/.mlw-installed"
if [ -f "$stamp" ] && [ -x "$dir/node_modules/.bin/code-server" ]; then
  log "code-server $version: installed in $dir"; exit 0
fi

# libkrb5-dev: headers for the kerberos native module; ripgrep: the rg binary we hand to @vscode/ripgrep.
apt_install libkrb5-dev ripgrep build-essential python3

tmp="${TMPDIR:-/tmp}"
cache="$tmp/vscode-ripgrep-cache-$ripgrep_pkg_version"
if [ ! -s "$cache/$ripgrep_asset" ]; then
  log "seeding the @vscode/ripgrep download cache from Debian's rg ($cache)"
  mkdir -p "$cache"
  work=$(mktemp -d)
  cp /usr/bin/rg "$work/rg"
  tar czf "$cache/$ripgrep_asset.tmp" -C "$work" rg && mv "$cache/$ripgrep_asset.tmp" "$cache/$ripgrep_asset"
  rm -rf "$work"
fi

log "installing code-server@$version into $dir (takes a few minutes)"
rm -rf "$dir"
mkdir -p "$dir"
printf '{ "name": "mlw-code-server", "private": true }\n' > "$dir/package.json"
(cd "$dir" && npm_config_yes=true npm_config_unsafe_perm=true \
  npm install --no-audit --no-fund --no-save "code-server@$version" >"$dir/install.log" 2>&1) || {
  log "npm install code-server failed; last lines of $dir/install.log:"; tail -30 "$dir/install.log" >&2; exit 1; }
"$dir/node_modules/.bin/code-server" --version >/dev/null
touch "$stamp"
log "code-server $version: installed in $dir"
