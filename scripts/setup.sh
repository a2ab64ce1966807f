#!/usr/bin/env bash
# Installs what is missing: Debian packages, the Python venv, front-end assets. Idempotent.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v curl >/dev/null || apt_install curl ca-certificates

# An engine or Redis that already answers (a real host with docker-ce, say) is used as it is: never a second one.
engine_socket="$(engine_url)"; engine_socket="${engine_socket#unix://}"
if ! { [ -S "$engine_socket" ] && curl -fsS --unix-socket "$engine_socket" http://engine/_ping >/dev/null 2>&1; }; then
  command -v dockerd >/dev/null || command -v podman >/dev/null || apt_install docker.io
fi
if ! redis-cli -u "$(redis_url)" ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server
fi
command -v npm >/dev/null || apt_install nodejs npm
# Storage (storage/host/): block listing, SMART health, partitioning, every filesystem we format or mount, and
# mergerfs pools; exfat-fuse and fusefat mount exFAT and FAT where the kernel has no driver of its own (a kernel
# built without them, like our CI's); psmisc's fuser names what holds a busy disk; libudev1 is what pyudev loads to
# hear hotplug uevents. apt_install skips what is there.
apt_install util-linux smartmontools parted e2fsprogs xfsprogs btrfs-progs exfatprogs ntfs-3g dosfstools mergerfs \
  mdadm psmisc exfat-fuse fusefat libudev1
command -v python3 >/dev/null || apt_install python3 python3-venv
apt_install gettext  # msgfmt compiles the translations below (and makemessages needs xgettext)

# Python venv from the locks (exact versions and hashes), reinstalled only when a lock changes.
if [ ! -x .venv/bin/python ]; then
  say "creating the Python virtual environment"
  python3 -m venv .venv || { apt_install python3-venv; python3 -m venv .venv; }
fi
locks=(requirements.txt); [ "${CASAOS_DEV:-0}" = 1 ] && locks+=(requirements-dev.txt)
stamp=".venv/.installed-$(cat "${locks[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  mapfile -t deps < <(build_deps "$(uname -m)")
  [ ${#deps[@]} -eq 0 ] || apt_install "${deps[@]}"
  say "installing Python packages from ${locks[*]}"
  # --require-hashes: a package whose file differs from the one locked is refused, never installed.
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes --no-deps $(printf -- '-r %s ' "${locks[@]}")
  rm -f .venv/.installed-*; touch "$stamp"
fi

bash scripts/assets.sh
bash scripts/messages.sh compile
