"""What the Nodes page and GET /api/nodes/ show: the swarm's state, the newest init, the box's addresses, the nodes."""

from __future__ import annotations

from dataclasses import asdict

from django.utils.translation import gettext_lazy as _

from casaos_site.i18n import shown
from runtime.errors import EngineError
from runtime.swarm.model import JoinInfo, NodeInfo

from .models import SwarmInit
from .services import NodesRefused, box_addresses, init_latest, init_open, join_info, nodes_list, swarm, swarm_state

STATE_NAMES = {"ready": _("ready"), "down": _("down"), "unknown": _("unknown"), "disconnected": _("disconnected")}
AVAILABILITY_NAMES = {"active": _("active"), "pause": _("paused"), "drain": _("drained")}
ROLE_NAMES = {"manager": _("manager"), "worker": _("worker")}


def init_payload(row: SwarmInit | None) -> dict | None:
    """An init request as the API answers it (its error in the reader's language)."""
    if row is None:
        return None
    return {
        "id": row.pk,
        "advertise_addr": row.advertise_addr,
        "state": row.state,
        "error": shown(row.error),
        "created_at": row.created_at,
        "finished_at": row.finished_at,
    }


def node_payload(node: NodeInfo) -> dict:
    return asdict(node)


def join_payload(info: JoinInfo) -> dict:
    """The tokens, the address and the two commands ready to paste."""
    return {**asdict(info), "worker_command": info.command("worker"), "manager_command": info.command("manager")}


def nodes_overview() -> dict:
    """The swarm's state, the newest init, the box's addresses and (when this box manages the swarm) its nodes.
    NodesRefused (503) when the engine does not answer."""
    state = swarm_state()
    managing = state.active and state.manager
    return {
        "swarm": asdict(state),
        "init": init_payload(init_latest()),
        "addresses": [] if state.active else box_addresses(),
        "nodes": [node_payload(n) for n in nodes_list()] if managing else [],
    }


def nodes_page() -> dict:
    """The page's context: the overview, the join commands, and what went wrong reading them (never raised)."""
    try:
        overview = nodes_overview()
    except NodesRefused as exc:
        return {"error": exc.message, "swarm": None, "nodes": [], "addresses": [], "init": None, "managing": False}
    managing = overview["swarm"]["active"] and overview["swarm"]["manager"]
    overview["swarm_mode"] = overview["swarm"]["active"] or _has_swarm_mode()
    join = None
    if managing:
        try:
            join = join_payload(join_info())
        except NodesRefused as exc:
            overview["error"] = exc.message
    overview["nodes"] = [_named(node) for node in overview["nodes"]]
    return {**overview, "join": join, "managing": managing, "initialising": init_open() is not None}


def _has_swarm_mode() -> bool:
    """Whether the engine could make a swarm at all (Podman cannot): the page says so instead of offering it."""
    try:
        return swarm().has_swarm_mode()
    except EngineError:
        return True  # the init's own checks say what is wrong


def _named(node: dict) -> dict:
    """A node with its state, availability and role in the reader's words (the page's cards)."""
    return {
        **node,
        "state_name": STATE_NAMES.get(node["state"], node["state"]),
        "availability_name": AVAILABILITY_NAMES.get(node["availability"], node["availability"]),
        "role_name": ROLE_NAMES.get(node["role"], node["role"]),
        "labels_text": "".join(f"{k}={v}\n" for k, v in sorted(node["labels"].items())),
    }
