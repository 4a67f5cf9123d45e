# Shared helpers for the setup scripts (sourced, not run). Every setup script is idempotent:
# it checks first and installs or starts only what is missing.

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

# apt_install PKG... — installs the Debian packages that are not installed yet (one apt-get update a day).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local stamp=/var/lib/apt/periodic/mlw-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    log "apt-get update"
    as_root apt-get update -q >/dev/null && as_root mkdir -p "$(dirname "$stamp")" && as_root touch "$stamp"
  fi
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
