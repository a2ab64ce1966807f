#!/usr/bin/env bash
# A real Docker Swarm of three machines on this one machine, for the tests of docs/multi-node.md (`up`, idempotent;
# `down`; `start <n>` brings one node's dockerd back after a test stopped it).
#
# Each "machine" is a dockerd of its own in its own network namespace and UTS namespace (its own iptables, bridge,
# hostname and ports: two daemons in one namespace fight over docker0, the DOCKER chains, the gossip port 7946 and
# VXLAN's 4789). The machines share one LAN, 10.251.0.0/24: a Linux bridge `swbr` inside a namespace of its own,
# casaos-swlan, with a veth to each node (`swl` in the node, `swl<n>` on the bridge). The bridge sits in its own
# namespace because a bridge on the host would put bridged packets through the host's Docker FORWARD DROP
# (br_netfilter); casaos-swlan has no rules. Each node also has a veth of its own to the host (`swh` in the node,
# `casaos-sw<n>` on the host) and a host route to its LAN address through it, so the host reaches a node's published
# ports at 10.251.0.1<n>. node1 is the manager, node2 a worker, node3 a spare machine that `up` starts but never
# joins (tests join it, stop it and make it leave again); the test engine at /var/run/docker.sock stays a plain
# engine.
#
# | node  | netns      | LAN address | host link     | socket                       | swarm            |
# | node1 | casaos-sw1 | 10.251.0.11 | 10.251.1.0/24 | /run/casaos-swarm/node1.sock | manager (leader) |
# | node2 | casaos-sw2 | 10.251.0.12 | 10.251.2.0/24 | /run/casaos-swarm/node2.sock | worker           |
# | node3 | casaos-sw3 | 10.251.0.13 | 10.251.3.0/24 | /run/casaos-swarm/node3.sock | none (the spare) |
#
# Inside a namespace 127.0.0.1 is its own: socat answers there on :5000 and hops back into the host's namespace to
# the loopback registry, so the test images (127.0.0.1:5000/..., and Hub names through the mirror) pull on every node.
# A machine set up before node3 existed (node1 and node2 wired by a veth pair `swp`) is taken down and built again.
source "$(dirname "$0")/lib.sh"
RUN=/run/casaos-swarm
DATA=/var/lib/casaos-swarm
LOGS="$VAR/logs"
# The swarm's own address pool: Docker's default (10.0.0.0/8 in /24s) would in time hand out 10.251.0.0/24.
ADDR_POOL=10.200.0.0/16
NODES="1 2 3"
# Seconds between a node's heartbeats to the manager (Docker's default 5): a node is marked down after three missed
# ones, so the tests see a machine go down in about 3 s instead of 15 s.
HEARTBEAT=1s

sock() { echo "$RUN/node$1.sock"; }
dk() { local n="$1"; shift; docker -H "unix://$(sock "$n")" "$@"; }
# nsenter, not `ip netns exec`: that one remounts /sys in a mount namespace of its own, hiding the cgroup mounts
# dockerd needs ("Devices cgroup isn't mounted").
ns() { local n="$1"; shift; nsenter --net="/run/netns/casaos-sw$n" "$@"; }
# The processes of a node's namespace running a program (setsid and nsenter fork: a recorded pid would be theirs).
ns_pids() { { ip netns pids "casaos-sw$1" 2>/dev/null || true; } | xargs -r ps -o pid=,comm= -p | awk -v c="$2" '$2 == c {print $1}'; }

lan() { nsenter --net=/run/netns/casaos-swlan "$@"; }

links_up() {
  # A name for the host's own namespace, for the registry hop back into it (/proc/1/ns/net may not be ours to open).
  [ -e /run/netns/casaos-host ] || ip netns attach casaos-host $$
  for n in $NODES; do ip netns list | grep -qw "casaos-sw$n" || ip netns add "casaos-sw$n"; done
  ip netns list | grep -qw casaos-swlan || ip netns add casaos-swlan
  lan ip link show swbr >/dev/null 2>&1 || lan ip link add swbr type bridge
  lan ip link set lo up
  lan ip link set swbr up
  for n in $NODES; do host_link_up "$n"; lan_link_up "$n"; done
}

host_link_up() {
  local n="$1"
  ns "$n" ip link set lo up
  if ! ip link show "casaos-sw$n" >/dev/null 2>&1; then
    ip link add "casaos-sw$n" type veth peer name swh netns "casaos-sw$n"
    ip addr add "10.251.$n.1/24" dev "casaos-sw$n"
    ip link set "casaos-sw$n" up
    ns "$n" ip addr add "10.251.$n.2/24" dev swh
    ns "$n" ip link set swh up
  fi
  ip route replace "10.251.0.1$n/32" via "10.251.$n.2" dev "casaos-sw$n"
}

lan_link_up() {
  local n="$1"
  ns "$n" ip link show swl >/dev/null 2>&1 && return 0
  ip link add swl netns "casaos-sw$n" type veth peer name "swl$n" netns casaos-swlan
  lan ip link set "swl$n" master swbr up
  ns "$n" ip addr add "10.251.0.1$n/24" dev swl
  ns "$n" ip link set swl up
}

# Today's layout has no veth pair between two nodes: a machine that still has one is rebuilt from scratch.
old_layout() { [ -e /run/netns/casaos-sw1 ] && ns 1 ip link show swp >/dev/null 2>&1; }

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
  [ "$(dk 1 info --format '{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}')" = "$HEARTBEAT" ] \
    || dk 1 swarm update --dispatcher-heartbeat "$HEARTBEAT" >/dev/null
  if [ "$(swarm_state 2)" != active ]; then
    say "joining swarm test node 2 as a worker"
    dk 2 swarm join --advertise-addr 10.251.0.12 --token "$(dk 1 swarm join-token -q worker)" 10.251.0.11:2377 >/dev/null
  fi
  poll 60 node2_ready || die "swarm test node 2 is not ready in the swarm (see $LOGS/swarm-node2.log)"
  spare_standalone
}

# node3 in no swarm and node1's swarm without it, as its tests leave them (also after a test run that was cut short).
spare_standalone() {
  [ "$(swarm_state 3)" = inactive ] || dk 3 swarm leave --force >/dev/null
  dk 1 node ls --format '{{.ID}} {{.Hostname}}' | awk '$2 == "casaos-sw3" {print $1}' | xargs -r docker -H "unix://$(sock 1)" node rm --force >/dev/null
}

node2_ready() { dk 1 node ls --format '{{.Hostname}} {{.Status}}' | grep -qx "casaos-sw2 Ready"; }

node_up() { registry_hop_up "$1"; daemon_up "$1"; }

up() {
  apt_install docker.io socat iproute2 util-linux
  mkdir -p "$RUN" "$LOGS"
  if old_layout; then say "rebuilding the swarm test machines on one LAN (with node3)"; down; fi
  links_up
  for n in $NODES; do node_up "$n"; done
  swarm_up
}

down() {
  for n in $NODES; do
    for c in socat dockerd; do ns_pids "$n" "$c" | xargs -r kill; done
  done
  for n in $NODES; do
    poll 30 sh -c "[ -z \"\$(ip netns pids casaos-sw$n 2>/dev/null)\" ]" || ip netns pids "casaos-sw$n" 2>/dev/null | xargs -r kill -9
  done
  for n in $NODES; do ip link del "casaos-sw$n" 2>/dev/null || true; ip netns del "casaos-sw$n" 2>/dev/null || true; done
  ip netns del casaos-swlan 2>/dev/null || true
  ip netns del casaos-host 2>/dev/null || true
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  start)
    case "${2:-}" in 1 | 2 | 3) ;; *) die "usage: $0 start 1|2|3" ;; esac
    mkdir -p "$RUN" "$LOGS"
    links_up
    node_up "$2"
    ;;
  *) die "usage: $0 [up|down|start <n>]" ;;
esac
