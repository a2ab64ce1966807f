"""node3 of the test swarm (scripts/swarm-test.sh): a spare machine in no swarm, for the tests of a machine joining,
going down and coming back. Tests that use it are `swarm` and `serial` and end with `reset()`: node3 standalone
again and node1's swarm without it (other tests count the swarm's nodes)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from runtime import errors as E
from runtime.swarm import Swarm

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "swarm-test.sh"
NETNS = "casaos-sw3"
HOSTNAME = "casaos-sw3"
MANAGER_PORT = 2377
DATA_ROOT = Path("/var/lib/casaos-swarm/node3")  # its --data-root in scripts/swarm-test.sh
DEADLINE = 60.0  # seconds for the swarm to show a change (a join, a node down, a task moved)


def until(check, what: str, deadline: float = DEADLINE):
    """Poll `check()` until it is truthy (bounded, 0.2 s apart); its value."""
    end = time.monotonic() + deadline
    while not (value := check()):
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def docker(cluster, *args: str) -> str:
    """The docker client on node3 (an argv list: what an admin runs on the other machine)."""
    done = subprocess.run(
        ["docker", "-H", cluster.spare_url, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"docker {args[:2]} on node3: {done.stderr.strip()}"
    return done.stdout


def daemon_pids() -> list[int]:
    """node3's dockerd (the processes of its network namespace running dockerd)."""
    listed = subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in listed.split() if _comm(pid) == "dockerd"]


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def answers(cluster) -> bool:
    try:
        Swarm(cluster.spare_url, timeout=3).state()
    except E.EngineError:
        return False
    return True


def stop(cluster) -> None:
    """Switch node3 off: its dockerd ends (stopping its containers), and stops answering."""
    pids = daemon_pids()
    assert pids, "node3's dockerd is not running"
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    until(lambda: not daemon_pids() and not answers(cluster), "node3's dockerd to end", 30)


def freeze() -> None:
    """node3 hangs (SIGSTOP): for the manager it is gone at once, as a machine that lost power or its network, and
    nothing of it moves on meanwhile (a task given to it stays as it was)."""
    for pid in daemon_pids():
        os.kill(pid, signal.SIGSTOP)


def start(cluster) -> None:
    """node3 back up (the script's own start: same namespace, data root and socket), in no swarm. A stopped node3
    forgets its swarm first, as `docker swarm leave --force` would (it deletes the same folder): a dockerd coming
    back into a swarm that removed it waits about 20 s for its managers before it answers."""
    for pid in daemon_pids():
        os.kill(pid, signal.SIGCONT)
    if not answers(cluster):
        shutil.rmtree(DATA_ROOT / "swarm", ignore_errors=True)
        subprocess.run(["bash", str(SCRIPT), "start", "3"], check=True, capture_output=True, timeout=120)


def join(cluster) -> str:
    """node3 joins node1's swarm as a worker; its node id once node1 sees it ready."""
    token = Swarm(cluster.manager_url).join_info().worker_token
    manager = f"{cluster.node1_addr}:{MANAGER_PORT}"
    docker(cluster, "swarm", "join", "--token", token, "--advertise-addr", cluster.node3_addr, manager)
    return until(lambda: ready_id(cluster), "node3 ready in the swarm")


def ready_id(cluster) -> str:
    node = seen(cluster)
    return node.id if node and node.state == "ready" else ""


def seen(cluster):
    """node3 as node1 sees it (the newest entry with its hostname), or None."""
    found = [n for n in Swarm(cluster.manager_url).nodes() if n.hostname == HOSTNAME]
    return found[-1] if found else None


def reset(cluster) -> None:
    """node3 running, in no swarm, without containers of ours; node1's swarm without any node3."""
    start(cluster)
    spare = Swarm(cluster.spare_url)
    if spare.state().local_state != "inactive":
        spare.leave(force=True)
    leftovers = docker(cluster, "ps", "-aq", "--filter", "label=com.docker.swarm.service.id").split()
    if leftovers:
        docker(cluster, "rm", "-f", *leftovers)
    manager = Swarm(cluster.manager_url)
    for node in manager.nodes():
        if node.hostname == HOSTNAME:
            manager.remove_node(node.id, force=True)
