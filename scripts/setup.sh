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
apt_install hostname tzdata  # Settings → System: `hostname` where systemd does not run, and the time zones offered
# remotes/: rclone mounts cloud drives and network shares (fuse3: fusermount), cifs-utils the kernel's own SMB client
# where the kernel has one; samba (smbd, smbpasswd) is the SMB server its tests start. Not nfs-common: it runs
# rpcbind, listening on port 111 of every interface; docs/remotes.md says to install it for NFS exports.
apt_install rclone fuse3 cifs-utils samba
# The Network page: `ip -j` reads interfaces and routes (iproute2), gdbus (libglib2.0-bin) talks to NetworkManager
# over the system bus (dbus) and takes its checkpoints. NetworkManager itself is the host's choice: installing it
# starts it, and on a server managed by ifupdown it can take interfaces over, so `make run` never installs it (the
# page says the settings are read-only, and how to enable them). Only the tests get it (`make test-setup`): they run
# their own NetworkManager on a private dbus-daemon in a network namespace, never the host's.
apt_install iproute2 dbus libglib2.0-bin
if [ "${CASAOS_DEV:-0}" = 1 ] && ! command -v NetworkManager >/dev/null; then
  apt_install network-manager
  # The package's postinst starts the host's NetworkManager: the tests need only its binaries.
  command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1 && systemctl disable --now NetworkManager >/dev/null 2>&1 || true
fi
# The VPN (vpn/): wg and wg-quick (wireguard-tools) configure WireGuard interfaces; wireguard-go is the userspace
# WireGuard for kernels without the module (ours), used only where `ip link add type wireguard` is refused.
apt_install wireguard-tools wireguard-go
# The firewall (firewall/host/nft.py): `nft` loads our own `table inet casaos` as a whole. Installing the package
# changes nothing on the host: Debian leaves its nftables.service disabled, and our table exists only while
# CASAOS_FIREWALL=1.
apt_install nftables
apt_install gettext  # msgfmt compiles the translations below (and makemessages needs xgettext)
apt_install restic openssh-client  # backups/: restic for repositories, ssh for its SFTP targets
apt_install caddy  # proxy/: the reverse proxy (HTTPS, app addresses, login in front of apps), driven by its admin API
# Debian's package starts its own caddy.service (a Caddyfile on :80); ours runs from the Procfile (CASAOS_PROXY=1).
if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  as_root systemctl disable --now caddy.service >/dev/null 2>&1 || true
fi
# backups/: the system backup of a PostgreSQL database is pg_dump's, restored with pg_restore (postgresql-client).
case "${DATABASE_URL:-}" in postgres*) apt_install postgresql-client ;; esac
# Shares (shares/): smbd, testparm, smbcontrol, smbpasswd and pdbedit (samba), the recycle bin (samba-vfs-modules), the
# tests' client (smbclient), Windows discovery (wsdd), macOS/Linux discovery and <hostname>.local (avahi-daemon,
# libnss-mdns); and the service user that owns what is written over SMB (docs/shares.md).
apt_install samba samba-vfs-modules smbclient wsdd avahi-daemon avahi-utils libnss-mdns
id -u "${CASAOS_SHARES_USER:-casaos-share}" >/dev/null 2>&1 || as_root useradd --system --user-group --no-create-home \
  --home-dir /nonexistent --shell /usr/sbin/nologin --comment "CasaOS shares" -- "${CASAOS_SHARES_USER:-casaos-share}"

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
