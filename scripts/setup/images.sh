#!/usr/bin/env bash
# Builds the local images the tests and the example need (no registry can be reached here):
#   mlw-test/busybox:latest           busybox-static in an empty root file system (tiny, fast)
#   mlw-test/python-sklearn:bookworm  Debian bookworm with python3, scikit-learn and pandas
# Each is built only when missing; its recipe's hash is kept as a label so a changed recipe rebuilds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

recipe_label() { docker image inspect --format '{{ index .Config.Labels "mlw.recipe" }}' "$1" 2>/dev/null || true; }

build_busybox() {
  local image=mlw-test/busybox:latest recipe=busybox-static-v1
  [ "$(recipe_label "$image")" = "$recipe" ] && { log "$image: present"; return; }
  apt_install busybox-static
  local root; root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for tool in $("$root/bin/busybox" --list); do [ "$tool" = busybox ] || ln -sf busybox "$root/bin/$tool"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -cf "$root.tar" .
  docker import --change "LABEL mlw.recipe=$recipe" --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' "$root.tar" "$image" >/dev/null
  rm -rf "$root" "$root.tar"
  log "$image: built"
}

build_sklearn() {
  local image=mlw-test/python-sklearn:bookworm recipe=mmdebstrap-apt-python3-sklearn-pandas-v1
  [ "$(recipe_label "$image")" = "$recipe" ] && { log "$image: present"; return; }
  apt_install mmdebstrap
  local tarball; tarball=$(mktemp --suffix=.tar)
  log "$image: mmdebstrap (about 80 s)"
  mmdebstrap --quiet --variant=apt --include=python3-minimal,python3-sklearn,python3-pandas \
    bookworm "$tarball" http://deb.debian.org/debian
  docker import --change "LABEL mlw.recipe=$recipe" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
  rm -f "$tarball"
  log "$image: built"
}

build_busybox
build_sklearn
