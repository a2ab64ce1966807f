#!/usr/bin/env bash
# Starts the container engine and Redis when they are not already running. Idempotent.
# Without Redis nothing runs, so its failure stops the set-up. An engine that does not come up is a warning (the web
# admin, files and accounts work without it; the status page and installs say it is down), unless
# CASAOS_REQUIRE_ENGINE=1 (the test set-up) makes it an error too.
source "$(dirname "$0")/lib.sh"
mkdir -p "$VAR/logs"

engine_ping() { curl -fsS --max-time 2 --unix-socket "$1" http://engine/_ping; }

engine_down() {
  [ "${CASAOS_REQUIRE_ENGINE:-0}" = 1 ] && die "$1"
  warn "$1; starting without it: apps cannot be installed or run until it answers"
}

start_engine() {
  local url socket; url="$(engine_url)"; socket="${url#unix://}"
  [ "$url" = "$socket" ] && return 0          # a tcp:// engine is someone else's to run
  engine_ping "$socket" >/dev/null 2>&1 && return 0
  if [ "$socket" = /var/run/docker.sock ] || [ "$socket" = /run/docker.sock ]; then
    command -v dockerd >/dev/null || { engine_down "no Docker engine: install docker.io (make run does) or set CASAOS_ENGINE_URL"; return; }
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      say "starting docker (systemd)"; as_root systemctl start docker
    else
      local args=(--host "unix://$socket")
      [ -n "${CASAOS_REGISTRY_MIRROR:-}" ] && args+=(--registry-mirror "$CASAOS_REGISTRY_MIRROR")
      say "starting dockerd ${args[*]}"
      as_root setsid nohup dockerd "${args[@]}" >"$VAR/logs/dockerd.log" 2>&1 < /dev/null &
      echo $! >"$RUN_DIR/dockerd.pid"
    fi
    poll 60 engine_ping "$socket" || engine_down "the Docker engine did not come up within 60s (see $VAR/logs/dockerd.log)"
  elif [ "$socket" = /run/podman/podman.sock ]; then
    bash "$ROOT/scripts/podman.sh" || engine_down "Podman's socket did not come up (see $VAR/logs/podman.log)"
  else
    engine_down "the engine socket $socket does not answer"
  fi
}

start_redis() {
  local url hostport host port
  url="$(redis_url)"; hostport="${url#redis://}"; hostport="${hostport%%/*}"; hostport="${hostport##*@}"
  host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379
  redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && return 0
  case "$host" in 127.0.0.1|localhost) ;; *) die "Redis at $host:$port does not answer";; esac
  command -v redis-server >/dev/null || die "no Redis: install redis-server (make run does)"
  mkdir -p "$VAR/redis"
  # Append-only file: Celery's queue and the channel layer outlive a restart of Redis (at most a second is lost).
  say "starting redis on $host:$port"
  redis-server --daemonize yes --bind "$host" --port "$port" --dir "$VAR/redis" \
    --logfile "$VAR/logs/redis.log" --pidfile "$RUN_DIR/redis.pid" --save "" \
    --appendonly yes --appendfsync everysec
  wait_for "Redis" 20 redis-cli -h "$host" -p "$port" ping
}

# ---- shares (docs/shares.md): smbd serves the shares, wsdd shows the box to Windows, avahi-daemon announces
# `_smb._tcp` and answers for <hostname>.local. Each is started only when it is not running; a failure is a warning
# (the web admin works without them, the Shares page says what Samba answered).
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

start_smbd() {
  command -v smbd >/dev/null || { warn "no Samba: install samba (make run does); shares are off"; return 0; }
  smbcontrol smbd ping >/dev/null 2>&1 && return 0
  if has_systemd; then say "starting smbd (systemd)"; as_root systemctl start smbd || warn "smbd did not start"; return 0; fi
  say "starting smbd"
  as_root smbd --daemon || warn "smbd did not start (see /var/log/samba/)"
}

start_wsdd() {
  command -v wsdd >/dev/null || { warn "no wsdd: Windows will not list the box under Network"; return 0; }
  if has_systemd; then as_root systemctl start wsdd 2>/dev/null && return 0; fi
  # Any wsdd of this host counts (one started by another data directory too): wsdd runs under python, so by its path.
  pgrep -f -- "$(command -v wsdd)" >/dev/null && return 0
  say "starting wsdd"
  setsid nohup wsdd --shortlog >"$VAR/logs/wsdd.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/wsdd.pid"
}

start_avahi() {
  command -v avahi-daemon >/dev/null || { warn "no avahi-daemon: macOS and Linux will not find the shares"; return 0; }
  avahi-daemon --check 2>/dev/null && return 0
  if has_systemd; then say "starting avahi-daemon (systemd)"; as_root systemctl start avahi-daemon || warn "avahi-daemon did not start"; return 0; fi
  local conf=/etc/avahi/avahi-daemon.conf
  if [ ! -S /run/dbus/system_bus_socket ]; then
    # No system D-Bus here (a container): the same configuration with D-Bus off, kept under the data directory.
    conf="$VAR/avahi-daemon.conf"
    sed '/^\[server\]/a enable-dbus=no' /etc/avahi/avahi-daemon.conf >"$conf"
  fi
  say "starting avahi-daemon"
  as_root avahi-daemon --daemonize --file="$conf" || warn "avahi-daemon did not start"
}

start_engine
start_redis
# CASAOS_LAN_SERVICES=0: leave smbd, wsdd and avahi-daemon alone (a test of this script, a host that runs its own).
if [ "${CASAOS_LAN_SERVICES:-1}" != 0 ]; then
  start_smbd
  start_wsdd
  start_avahi
fi
