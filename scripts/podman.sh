#!/usr/bin/env bash
# Podman's Docker-compatible socket, with the two settings this kind of machine needs (see docs/engines.md).
source "$(dirname "$0")/lib.sh"
SOCKET=/run/podman/podman.sock
# Debian's Podman 4.3 networks through CNI: without the dnsname plugin (only recommended, and the set-up installs
# without recommends) an app's containers cannot find each other by service name. Installed even when a Podman
# already answers: its next network picks the plugin up, no restart needed. catatonit is the init process
# Podman runs for `init: true` (also only recommended): without it such an app cannot start.
apt_install podman golang-github-containernetworking-plugin-dnsname catatonit
curl -fsS --max-time 2 --unix-socket "$SOCKET" http://engine/_ping >/dev/null 2>&1 && exit 0
conf="$VAR/podman"; mkdir -p "$conf" "$(dirname "$SOCKET")" "$VAR/logs"
cat >"$conf/containers.conf" <<'CONF'
[containers]
# Without this, runc fails in unprivileged sandboxes: "error setting rlimits ... operation not permitted".
default_ulimits = []
[engine]
# crun fails on hybrid cgroups ("cgroups in hybrid mode not supported"); runc works.
runtime = "runc"
CONF
cat >"$conf/registries.conf" <<'CONF'
unqualified-search-registries = ["docker.io"]
[[registry]]
location = "127.0.0.1:5000"
insecure = true
CONF
say "starting podman system service on $SOCKET"
CONTAINERS_CONF="$conf/containers.conf" CONTAINERS_REGISTRIES_CONF="$conf/registries.conf" \
  setsid nohup podman system service --time=0 "unix://$SOCKET" >"$VAR/logs/podman.log" 2>&1 < /dev/null &
echo $! >"$RUN_DIR/podman.pid"
wait_for "the Podman socket (see $VAR/logs/podman.log)" 30 curl -fsS --unix-socket "$SOCKET" http://engine/_ping
