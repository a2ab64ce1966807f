#!/usr/bin/env bash
# Test-only services: a loopback image registry with small test images, Podman, Chromium. Idempotent.
source "$(dirname "$0")/lib.sh"
REGISTRY=127.0.0.1:5000
apt_install docker-registry busybox-static chromium

registry_up() { curl -fsS --max-time 2 "http://$REGISTRY/v2/" >/dev/null; }
if ! registry_up; then
  mkdir -p "$VAR/registry/data"
  cat >"$VAR/registry/config.yml" <<CONF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $VAR/registry/data}, delete: {enabled: true}}
http: {addr: $REGISTRY}
CONF
  say "starting the loopback image registry on $REGISTRY"
  setsid nohup docker-registry serve "$VAR/registry/config.yml" >"$VAR/logs/registry.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/registry.pid"
  wait_for "the image registry" 20 registry_up
fi

# The engine we start for tests resolves Docker Hub names through the loopback registry.
export CASAOS_REGISTRY_MIRROR="http://$REGISTRY"
bash "$ROOT/scripts/services.sh"
bash "$ROOT/scripts/test-images.sh"
bash "$ROOT/scripts/podman.sh"
