"""The swarm's objects as plain values (no engine client here: the web server imports them at start-up, and
runtime.docker, with docker-py, only when an engine is really asked)."""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime import errors as E

ROLES = ("worker", "manager")
AVAILABILITIES = ("active", "pause", "drain")


@dataclass(frozen=True)
class SwarmState:
    """GET /info's Swarm part: whether this engine is in a swarm, and whether it manages it."""

    active: bool  # LocalNodeState == "active"
    manager: bool  # ControlAvailable
    node_id: str
    addr: str  # NodeAddr
    cluster_id: str = ""
    error: str = ""
    local_state: str = ""  # inactive | pending | active | error | locked


@dataclass(frozen=True)
class NodeInfo:
    """One machine of the swarm as a manager sees it."""

    id: str
    hostname: str
    role: str  # "manager" | "worker"
    availability: str  # "active" | "pause" | "drain"
    state: str  # "ready" | "down" | "unknown" | "disconnected"
    addr: str
    engine_version: str
    cpus: float
    memory: int  # bytes
    labels: dict[str, str] = field(default_factory=dict)
    leader: bool = False
    current: bool = False  # the node whose engine we talk to
    message: str = ""


@dataclass(frozen=True)
class JoinInfo:
    """What another machine needs to join: a token per role and where this manager listens."""

    worker_token: str
    manager_token: str
    manager_addr: str  # "10.251.0.11:2377"

    def token(self, role: str) -> str:
        """The token of a role ("worker" or "manager")."""
        return self.manager_token if _role(role) == "manager" else self.worker_token

    def command(self, role: str) -> str:
        """The command to run on the other machine: `docker swarm join --token <t> <addr>`."""
        return f"docker swarm join --token {self.token(role)} {self.manager_addr}"


def _role(role: str) -> str:
    if role not in ROLES:
        raise E.InvalidSpec.worded("role must be worker or manager, not %(role)s", role=str(role)[:40])
    return role
