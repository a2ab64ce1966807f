"""Docker Swarm mode's own objects: the swarm (init, join tokens, leave) and its nodes (list, drain, labels, remove).

Plain Python over the Engine API, through runtime.docker's client and its error mapping (docker-py is imported there
only). The API version is negotiated, never pinned. Swarm answers most refusals with 503 ("This node is not a swarm
manager", "already part of a swarm"), which the generic mapping takes for a passing outage: they are said again here
as Conflict in our words, because no retry heals them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from runtime import errors as E
from runtime.docker import DockerEngine, _mapped
from runtime.swarm.model import AVAILABILITIES, ROLES, JoinInfo, NodeInfo, SwarmState, _role

__all__ = ["AVAILABILITIES", "ROLES", "JoinInfo", "NodeInfo", "Swarm", "SwarmState"]

T = TypeVar("T")

SWARM_PORT = 2377  # Swarm's default cluster-management port (docker swarm init's default listen address)
# Node ids are 25 lower-case characters; the API also takes a node's name. Anything else could reach another path of
# the Engine API (docker-py leaves "/" unquoted in path arguments).
_NODE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_NOT_MANAGER = ("not a swarm manager",)
_NOT_IN = ("not part of a swarm",)
_ALREADY_IN = ("already part of a swarm",)
_NO_SWARM_MODE = ("does not support",)  # Podman: "Podman does not support service: /v1.41/swarm/init"
# Swarm refuses a write made on an old copy of the object: another change landed between our read and our write.
_OUT_OF_SEQUENCE = "update out of sequence"


def _node_ref(node_id: str) -> str:
    if not isinstance(node_id, str) or not _NODE_REF.match(node_id):
        raise E.NotFound.worded("no node %(node)s in this swarm", node=str(node_id)[:64])
    return node_id


def _says(exc: E.EngineError, phrases: tuple[str, ...]) -> bool:
    return any(p in exc.message.lower() for p in phrases)


def _no_swarm_mode() -> E.EngineError:
    return E.InvalidSpec.worded("this engine has no Swarm mode (Podman has none): the swarm needs Docker")


@contextlib.contextmanager
def _swarm_call() -> Iterator[None]:
    """An Engine API call, its SDK errors mapped, and Swarm's 503 refusals said as Conflict."""
    try:
        with _mapped():
            yield
    except E.EngineError as exc:
        if _says(exc, _NOT_MANAGER):
            raise E.Conflict.worded("this engine is not a swarm manager: make it one first") from exc
        if _says(exc, _NOT_IN):
            raise E.Conflict.worded("this engine is not in a swarm") from exc
        if _says(exc, _ALREADY_IN):
            raise E.Conflict.worded("this engine is already in a swarm") from exc
        if _says(exc, _NO_SWARM_MODE):
            raise _no_swarm_mode() from exc
        raise


def state_from_info(info: dict[str, Any]) -> SwarmState:
    """GET /info -> SwarmState (Podman answers an inactive swarm, or none at all)."""
    swarm = info.get("Swarm") or {}
    local = str(swarm.get("LocalNodeState") or "inactive")
    return SwarmState(
        active=local == "active",
        manager=bool(swarm.get("ControlAvailable")),
        node_id=str(swarm.get("NodeID") or ""),
        addr=str(swarm.get("NodeAddr") or ""),
        cluster_id=str((swarm.get("Cluster") or {}).get("ID") or ""),
        error=str(swarm.get("Error") or ""),
        local_state=local,
    )


def _node_addr(status: dict[str, Any], manager: dict[str, Any]) -> str:
    """Status.Addr; a manager may report 0.0.0.0 there (moby#35437), its ManagerStatus.Addr then says it."""
    addr = str(status.get("Addr") or "")
    if addr in ("", "0.0.0.0") and manager.get("Addr"):
        return str(manager["Addr"]).rsplit(":", 1)[0]
    return addr


def node_from_raw(raw: dict[str, Any], *, current_id: str = "") -> NodeInfo:
    """GET /nodes/{id} -> NodeInfo."""
    spec, desc = raw.get("Spec") or {}, raw.get("Description") or {}
    status, manager = raw.get("Status") or {}, raw.get("ManagerStatus") or {}
    resources = desc.get("Resources") or {}
    return NodeInfo(
        id=str(raw["ID"]),
        hostname=str(desc.get("Hostname") or ""),
        role=str(spec.get("Role") or ""),
        availability=str(spec.get("Availability") or ""),
        state=str(status.get("State") or "unknown"),
        addr=_node_addr(status, manager),
        engine_version=str((desc.get("Engine") or {}).get("EngineVersion") or ""),
        cpus=int(resources.get("NanoCPUs") or 0) / 1e9,
        memory=int(resources.get("MemoryBytes") or 0),
        labels={str(k): str(v) for k, v in (spec.get("Labels") or {}).items()},
        leader=bool(manager.get("Leader")),
        current=bool(current_id) and raw["ID"] == current_id,
        message=str(status.get("Message") or ""),
    )


def _manager_addr(info: dict[str, Any]) -> str:
    """Where this manager takes joins: its own entry in RemoteManagers (what `docker swarm join-token` prints)."""
    swarm = info.get("Swarm") or {}
    managers = swarm.get("RemoteManagers") or []
    own = [m["Addr"] for m in managers if m.get("NodeID") == swarm.get("NodeID") and m.get("Addr")]
    if own:
        return str(own[0])
    return f"{swarm.get('NodeAddr') or ''}:{SWARM_PORT}"


class Swarm:
    """The swarm as seen through one engine; writes need that engine to be a manager (Conflict otherwise)."""

    def __init__(self, url: str, *, timeout: float = 120) -> None:
        self.url = url
        self._engine = DockerEngine(url, timeout=timeout)

    def _call(self, call: Callable[[], T]) -> T:
        with _swarm_call():
            return call()

    def _info(self) -> dict[str, Any]:
        return self._call(lambda: self._engine.api.info())

    def has_swarm_mode(self) -> bool:
        """Docker has Swarm mode; Podman's Docker API answers without it."""
        with _mapped():
            return self._engine.version().engine == "docker"

    def state(self) -> SwarmState:
        """Whether this engine is in a swarm, and a manager of it."""
        return state_from_info(self._info())

    def init(self, advertise_addr: str) -> str:
        """`docker swarm init --advertise-addr <addr>`: a new swarm with this engine its first manager; its node id.

        Conflict when the engine is in a swarm already (Docker says so with a 503)."""
        if self.state().local_state in ("active", "pending", "locked"):
            raise E.Conflict.worded("this engine is already in a swarm")
        try:
            return str(self._call(lambda: self._engine.api.init_swarm(advertise_addr=advertise_addr)))
        except E.NotFound as exc:  # an engine without the /swarm endpoints
            raise _no_swarm_mode() from exc

    def join_info(self) -> JoinInfo:
        """The join tokens and this manager's address (Conflict on a worker or outside a swarm)."""
        tokens = self._call(lambda: self._engine.api.inspect_swarm()).get("JoinTokens") or {}
        return JoinInfo(
            worker_token=str(tokens.get("Worker") or ""),
            manager_token=str(tokens.get("Manager") or ""),
            manager_addr=_manager_addr(self._info()),
        )

    def rotate(self, role: str) -> JoinInfo:
        """A new join token for a role; the old one no longer lets anyone join (machines already in stay)."""
        _role(role)
        self._retried(lambda: self._rotate_once(role))
        return self.join_info()

    def _rotate_once(self, role: str) -> None:
        raw = self._call(lambda: self._engine.api.inspect_swarm())
        # The whole current spec goes back: an empty one would reset the swarm's settings to Docker's defaults.
        self._call(
            lambda: self._engine.api.update_swarm(
                raw["Version"]["Index"],
                swarm_spec=raw.get("Spec") or {},
                rotate_worker_token=role == "worker",
                rotate_manager_token=role == "manager",
            )
        )

    def _retried(self, write: Callable[[], T]) -> T:
        """A read-modify-write, once more when another change landed between its read and its write."""
        try:
            return write()
        except E.EngineError as exc:
            if _OUT_OF_SEQUENCE not in exc.message.lower():
                raise
        return write()

    def nodes(self) -> list[NodeInfo]:
        """Every node: managers first, then by host name."""
        current = self.state().node_id
        rows = self._call(lambda: self._engine.api.nodes())
        nodes = [node_from_raw(row, current_id=current) for row in rows]
        return sorted(nodes, key=lambda n: (n.role != "manager", n.hostname, n.id))

    def _inspect_node(self, node_id: str) -> dict[str, Any]:
        ref = _node_ref(node_id)
        try:
            return self._call(lambda: self._engine.api.inspect_node(ref))
        except E.NotFound as exc:
            raise E.NotFound.worded("no node %(node)s in this swarm", node=ref) from exc

    def node(self, node_id: str) -> NodeInfo:
        """One node by id (or name); NotFound when the swarm has none such."""
        raw = self._inspect_node(node_id)
        return node_from_raw(raw, current_id=self.state().node_id)

    def update_node(
        self, node_id: str, *, availability: str | None = None, labels: dict[str, str] | None = None
    ) -> NodeInfo:
        """Set a node's availability and/or replace its labels; None leaves that part as it is."""
        if availability is not None and availability not in AVAILABILITIES:
            raise E.InvalidSpec.worded(
                "availability must be active, pause or drain, not %(value)s", value=str(availability)[:40]
            )
        self._retried(lambda: self._update_once(node_id, availability, labels))
        return self.node(node_id)

    def _update_once(self, node_id: str, availability: str | None, labels: dict[str, str] | None) -> None:
        raw = self._inspect_node(node_id)
        spec = dict(raw.get("Spec") or {})  # the whole spec goes back: the update replaces it
        if availability is not None:
            spec["Availability"] = availability
        if labels is not None:
            spec["Labels"] = {str(k): str(v) for k, v in labels.items()}
        self._call(lambda: self._engine.api.update_node(raw["ID"], raw["Version"]["Index"], spec))

    def remove_node(self, node_id: str, *, force: bool = False) -> None:
        """Forget a node. One still up is refused unless forced: it should be drained and leave first, or it keeps
        running its tasks outside the swarm's view."""
        node = self.node(node_id)
        if node.state != "down" and not force:
            raise E.Conflict.worded(
                "node %(name)s is still up: drain it and let it leave first, or force", name=node.hostname or node.id
            )
        try:
            self._call(lambda: self._engine.api.remove_node(node.id, force=force))
        except E.InvalidSpec as exc:  # FailedPrecondition: a manager still in the raft, a node not down
            raise E.Conflict(exc.message) from exc

    def leave(self, *, force: bool = False) -> None:
        """This engine leaves its swarm (a manager only with force: the swarm may lose its quorum)."""
        self._call(lambda: self._engine.api.leave_swarm(force=force))
