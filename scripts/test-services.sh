#!/usr/bin/env bash
# Test-only services: a loopback image registry with small test images, Podman, Chromium, and docker-compose
# (Compose 1.x: the export test brings an exported app up with it). Idempotent.
source "$(dirname "$0")/lib.sh"
REGISTRY=127.0.0.1:5000
# iproute2: the Podman race test adds and removes veth pairs with `ip`.
# fonts-noto-cjk: Chromium draws the Chinese pages (and their screenshots) with real glyphs, not empty boxes.
apt_install docker-registry busybox-static chromium docker-compose iproute2 fonts-noto-cjk
# certutil: the proxy's browser test trusts Caddy's internal root in a Chromium NSS database of its own (tests/proxy).
apt_install libnss3-tools
# tests/firewall/test_probe.py reads and adds iptables rules (Docker's FORWARD, CNI's CNI-ADMIN). docker.io pulls
# iptables in today, but the tests call it themselves.
apt_install iptables
apt_install openssl  # tests/backups/test_targets_s3.py makes a TLS certificate for its S3 server

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
export CASAOS_REQUIRE_ENGINE=1  # tests need the engine: no starting without it here
# The services `make run` needs, but not the LAN daemons (smbd, wsdd, avahi-daemon): a test machine announces
# nothing, and the tests of shares start an smbd of their own.
CASAOS_LAN_SERVICES=0 bash "$ROOT/scripts/services.sh"
bash "$ROOT/scripts/test-images.sh"
bash "$ROOT/scripts/podman.sh"
# Two more dockerds in network namespaces of their own, a manager and a worker: the multi-node tests' swarm.
bash "$ROOT/scripts/swarm-test.sh" up

# backups tests (tests/backups/test_targets.py): OpenSSH's sshd, started by the test on a loopback port with its own
# config and host key, as a real SFTP target (restic 0.14 cannot make a repository over `rclone serve sftp`). Debian's
# package would start sshd on port 22 where an init system runs: policy-rc.d keeps it from starting (test machines).
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed"; then
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt_install openssh-server
  [ -z "$made_policy" ] || as_root rm -f /usr/sbin/policy-rc.d
fi

# PostgreSQL, to prove DATABASE_URL works (tests/core/test_postgres.py).
apt_install postgresql
if ! pg_isready -q -h 127.0.0.1; then
  cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
  [ -n "$cluster" ] || die "no PostgreSQL cluster found"
  say "starting PostgreSQL $cluster"
  pg_ctlcluster $cluster start
  wait_for "PostgreSQL" 30 pg_isready -q -h 127.0.0.1
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='casaos_test'\"" | grep -q 1; then
  su postgres -c "psql -qc \"CREATE ROLE casaos_test LOGIN CREATEDB PASSWORD 'casaos_test'\""
fi
