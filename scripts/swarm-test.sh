#!/usr/bin/env bash
# A real two-machine Docker Swarm on this one machine, for the tests of docs/multi-node.md (`up`, idempotent; `down`).
#
# Each "machine" is a dockerd of its own in its own network namespace and UTS namespace (its own iptables, bridge,
# hostname and ports: two daemons in one namespace fight over docker0, the DOCKER chains, the gossip port 7946 and
# VXLAN's 4789). The two namespaces are wired to each other by a veth pair (the swarm's LAN, 10.251.0.0/24), and each
# to the host by a veth of its own, so the host reaches a node's published ports at its LAN address without a
# bridge (br_netfilter would put bridged packets through Docker's FORWARD DROP). node1 is the manager, node2 a
# worker; the test engine at /var/run/docker.sock stays a plain engine.
#
# | node  | netns      | LAN address | host link    | socket                        |
# | node1 | casaos-sw1 | 10.251.0.11 | 10.251.1.0/24 | /run/casaos-swarm/node1.sock |
# | node2 | casaos-sw2 | 10.251.0.12 | 10.251.2.0/24 | /run/casaos-swarm/node2.sock |
#
# Inside a namespace 127.0.0.1 is its own: socat answers there on :5000 and hops back into the host's namespace to
# the loopback registry, so the test images (127.0.0.1:5000/..., and Hub names through the mirror) pull on every node.
source "$(dirname "$0")/lib.sh"
RUN=/run/casaos-swarm
DATA=/var/lib/casaos-swarm
LOGS="$VAR/logs"
# The swarm's own address pool: Docker's default (10.0.0.0/8 in /24s) would in time hand out 10.251.0.0/24.
ADDR_POOL=10.200.0.0/16

sock() { echo "$RUN/node$1.sock"; }
dk() { local n="$1"; shift; docker -H "unix://$(sock "$n")" "$@"; }
# nsenter, not `ip netns exec`: that one remounts /sys in a mount namespace of its own, hiding the cgroup mounts
# dockerd needs ("Devices cgroup isn't mounted").
ns() { local n="$1"; shift; nsenter --net="/run/netns/casaos-sw$n" "$@"; }
# The processes of a node's namespace running a program (setsid and nsenter fork: a recorded pid would be theirs).
ns_pids() { ip netns pids "casaos-sw$1" 2>/dev/null | xargs -r ps -o pid=,comm= -p | awk -v c="$2" '$2 == c {print $1}'; }

links_up() {
  # A name for the host's own namespace, for the registry hop back into it (/proc/1/ns/net may not be ours to open).
  [ -e /run/netns/casaos-host ] || ip netns attach casaos-host $$
  ip netns list | grep -qw casaos-sw1 || ip netns add casaos-sw1
  ip netns list | grep -qw casaos-sw2 || ip netns add casaos-sw2
  for n in 1 2; do
    ns "$n" ip link set lo up
    if ! ip link show "casaos-sw$n" >/dev/null 2>&1; then
      ip link add "casaos-sw$n" type veth peer name swh netns "casaos-sw$n"
      ip addr add "10.251.$n.1/24" dev "casaos-sw$n"
      ip link set "casaos-sw$n" up
      ns "$n" ip addr add "10.251.$n.2/24" dev swh
      ns "$n" ip link set swh up
    fi
    ip route replace "10.251.0.1$n/32" via "10.251.$n.2" dev "casaos-sw$n"
  done
  if ! ns 1 ip link show swp >/dev/null 2>&1; then
    ip link add swp netns casaos-sw1 type veth peer name swp netns casaos-sw2
    for n in 1 2; do
      ns "$n" ip addr add "10.251.0.1$n/24" dev swp
      ns "$n" ip link set swp up
    done
  fi
}

registry_hop_up() {
  local n="$1"
  [ -n "$(ns_pids "$n" socat)" ] && return 0
  ns "$n" setsid nohup socat TCP-LISTEN:5000,bind=127.0.0.1,fork,reuseaddr \
    "EXEC:nsenter --net=/run/netns/casaos-host socat STDIO TCP\\:127.0.0.1\\:5000" \
    >"$LOGS/swarm-socat$n.log" 2>&1 </dev/null &
}

# A node's dockerd also runs in a mount namespace of its own with a private /run, where it answers at
# /run/docker.sock as on a real machine: the job that removes an app's volumes mounts /var/run/docker.sock and must
# reach that node's engine, not the host's. The host reaches it at $RUN/node<n>.sock ($RUN is moved into that /run).
node_script() {
  local n="$1"
  cat <<SCRIPT
set -e
hostname casaos-sw$n
mount --make-rprivate /
keep=$DATA/node$n.keep && mkdir -p \$keep
mount --bind $RUN \$keep
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p $RUN
mount --move \$keep $RUN
exec dockerd --host unix://$(sock "$n") --host unix:///run/docker.sock --pidfile $RUN/node$n.pid \\
  --data-root $DATA/node$n --exec-root $RUN/exec$n --cgroup-parent /casaos-sw$n \\
  --containerd-namespace casaos-sw$n --containerd-plugins-namespace casaos-sw$n-p \\
  --registry-mirror http://127.0.0.1:5000
SCRIPT
}

daemon_up() {
  local n="$1"
  curl -fsS --max-time 2 --unix-socket "$(sock "$n")" http://engine/_ping >/dev/null 2>&1 && return 0
  mkdir -p "$DATA/node$n" "$RUN/exec$n"
  say "starting the swarm test node $n (dockerd in netns casaos-sw$n)"
  ns "$n" setsid nohup unshare --mount --uts sh -c "$(node_script "$n")" >"$LOGS/swarm-node$n.log" 2>&1 </dev/null &
  poll 60 curl -fsS --max-time 2 --unix-socket "$(sock "$n")" http://engine/_ping \
    || die "swarm test node $n did not come up (see $LOGS/swarm-node$n.log)"
}

swarm_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}'; }

swarm_up() {
  if [ "$(swarm_state 1)" != active ]; then
    say "making swarm test node 1 a manager"
    dk 1 swarm init --advertise-addr 10.251.0.11 --default-addr-pool "$ADDR_POOL" >/dev/null
  fi
  if [ "$(swarm_state 2)" != active ]; then
    say "joining swarm test node 2 as a worker"
    dk 2 swarm join --advertise-addr 10.251.0.12 --token "$(dk 1 swarm join-token -q worker)" 10.251.0.11:2377 >/dev/null
  fi
  poll 60 node2_ready || die "swarm test node 2 is not ready in the swarm (see $LOGS/swarm-node2.log)"
}

node2_ready() { dk 1 node ls --format '{{.Hostname}} {{.Status}}' | grep -qx "casaos-sw2 Ready"; }

up() {
  apt_install docker.io socat iproute2 util-linux
  mkdir -p "$RUN" "$LOGS"
  links_up
  for n in 1 2; do registry_hop_up "$n"; daemon_up "$n"; done
  swarm_up
}

down() {
  for n in 1 2; do
    for c in socat dockerd; do ns_pids "$n" "$c" | xargs -r kill; done
  done
  for n in 1 2; do poll 30 sh -c "[ -z \"\$(ip netns pids casaos-sw$n 2>/dev/null)\" ]" || ip netns pids "casaos-sw$n" | xargs -r kill -9; done
  for n in 1 2; do ip link del "casaos-sw$n" 2>/dev/null || true; ip netns del "casaos-sw$n" 2>/dev/null || true; done
  ip netns del casaos-host 2>/dev/null || true
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 [up|down]" ;;
esac
