"""Where an app runs: this box (the plain engine, as always) or the swarm this box manages.

An installation's `placement` is fixed at install: {} (this box), {"where": "any"}, {"where": "node", "node": "<id>"}
or {"where": "label", "label": "key=value"}. Changing it means installing the app again (a swarm app's services and a
plain app's containers are different objects). runtime.swarm turns it into Swarm placement constraints.
"""

import re
from typing import Any

from django.conf import settings

from casaos_site.i18n import deferred
from nodes import services as nodes_services
from runtime.errors import EngineError

from .common import InstallError

WHERE = ("local", "any", "node", "label")
_LABEL_PART = re.compile(r"[A-Za-z0-9._-]{1,64}")  # what reaches a Swarm constraint: no spaces, no operators
_NODE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
LOOPBACK = "127.0.0.1"


# ---------------------------------------------------------------------------- the swarm this box manages
def swarm_active() -> bool:
    """Whether this box is a manager of an active swarm (cached a few seconds by nodes.services)."""
    return nodes_services.swarm_active()


def swarm_state_forget() -> None:
    """Ask the engine again next time (tests, and after this box joined or left a swarm)."""
    nodes_services.swarm_active_forget()


def swarm_nodes() -> list:
    """The swarm's nodes (runtime.swarm.NodeInfo), an empty list when there is no swarm to ask."""
    from runtime.swarm import Swarm

    try:
        return Swarm(settings.ENGINE_URL).nodes()
    except EngineError:
        return []


# ---------------------------------------------------------------------------- validation
def placement_clean(value: Any) -> dict[str, str]:
    """A placement as asked (API body or form) checked and in its stored shape; InstallError (400) says what is wrong:
    its shape first, then whether this box manages a swarm, then whether the machine named is in it."""
    where = _where(value)
    if where == "local":
        return {}
    if where == "node":
        placement = {"where": "node", "node": _node_format(value.get("node"))}
    elif where == "label":
        placement = {"where": "label", "label": _label_clean(value.get("label"))}
    else:
        placement = {"where": "any"}
    if not swarm_active():
        raise InstallError(
            deferred(
                "An app runs on other machines only when this box manages a swarm. "
                "Make this box a swarm manager on the Machines page first."
            ),
            code="placement",
        )
    if where == "node":
        placement["node"] = _node_clean(placement["node"])
    return placement


def _where(value: Any) -> str:
    if value in (None, "", {}):
        return "local"
    if not isinstance(value, dict) or value.get("where", "local") not in WHERE:
        raise InstallError(
            deferred('The placement must say "where": one of local, any, node or label.'), code="placement"
        )
    extra = set(value) - {"where", "node", "label"}
    if extra:
        raise InstallError(
            deferred("The placement has keys it does not know: %(keys)s.", keys=", ".join(sorted(map(str, extra)))),
            code="placement",
        )
    return value.get("where", "local")


def _node_format(node: Any) -> str:
    if not isinstance(node, str) or not _NODE_ID.fullmatch(node):
        raise InstallError(deferred("Name the machine the app runs on (its node id)."), code="placement")
    return node


def _node_clean(node: str) -> str:
    """A node of the swarm, named by id or hostname; stored as its id."""
    for info in swarm_nodes():
        if node in (info.id, info.hostname):
            return info.id
    raise InstallError(deferred("The swarm has no machine %(node)s.", node=node), code="placement")


def _label_clean(label: Any) -> str:
    key, sep, val = label.partition("=") if isinstance(label, str) else ("", "", "")
    if not sep or not _LABEL_PART.fullmatch(key.strip()) or not _LABEL_PART.fullmatch(val.strip()):
        raise InstallError(
            deferred(
                "A machine label is key=value, each of letters, digits, '.', '_' and '-' (at most 64), like disk=ssd."
            ),
            code="placement",
        )
    return f"{key.strip()}={val.strip()}"


# ---------------------------------------------------------------------------- reading a stored placement
def placement_local(placement: dict | None) -> bool:
    """Whether an app with this placement runs on this box's plain engine."""
    return not placement or placement.get("where", "local") == "local"


def placement_runtime(placement: dict):
    """The stored placement as runtime.swarm.Placement (its constraints)."""
    from runtime.swarm import Placement

    if placement.get("where") == "node":
        return Placement(node=placement["node"])
    if placement.get("where") == "label":
        key, _sep, value = placement["label"].partition("=")
        return Placement(labels=((key, value),))
    return Placement()


def placement_words(placement: dict | None, hostnames: dict[str, str] | None = None) -> str:
    """The placement in plain words (stored untranslated: shown() renders it in the reader's language)."""
    if placement_local(placement):
        return deferred("This box")
    if placement["where"] == "any":
        return deferred("Any machine of the swarm")
    if placement["where"] == "node":
        node = placement["node"]
        return deferred("The machine %(node)s", node=(hostnames or {}).get(node, node))
    return deferred("Machines with the label %(label)s", label=placement["label"])


def project_binds(project) -> list[str]:
    """The host folders the app's services mount: on the swarm they pin those services to this box's machine."""
    return sorted({m.source for spec in project.containers for m in spec.mounts if m.type == "bind" and m.source})


def placement_fits(placement: dict, project) -> None:
    """An app with bind folders runs where the folders are (runtime.swarm pins those services to this box's machine):
    asking for another machine by name is refused rather than left waiting for a node that cannot run it."""
    folders = project_binds(project)
    if placement.get("where") != "node" or not folders:
        return
    node = next((n for n in swarm_nodes() if n.id == placement["node"]), None)
    if node is not None and not node.current:
        raise InstallError(
            deferred(
                "This app keeps its data in folders of this box (%(folders)s): on the swarm it runs on this box's "
                "machine, not on %(node)s.",
                folders=", ".join(folders[:3]),
                node=node.hostname,
            ),
            code="placement",
        )


# ---------------------------------------------------------------------------- reaching an app on the swarm
def web_host(*, eng, project, port: int) -> str:
    """Where an app's web port answers: this box, or the machine running the swarm service that publishes it (its
    ports are published in host mode on that node)."""
    if not hasattr(eng, "tasks"):  # the plain engine: this box
        return LOOPBACK
    spec = next((s for s in project.containers if any(p.published == port for p in s.ports)), None)
    if spec is None:
        return LOOPBACK
    try:
        tasks = eng.tasks(spec.name)
    except EngineError:
        return LOOPBACK
    running = [t for t in tasks if t.state == "running" and t.node_id] or [t for t in tasks if t.node_id]
    return (node_address(running[0].node_id) if running else "") or LOOPBACK


def node_address(node_id: str) -> str:
    """The address a swarm node is reached at ("" when the swarm does not say: a manager may report 0.0.0.0)."""
    from runtime.swarm import Swarm

    try:
        addr = Swarm(settings.ENGINE_URL).node(node_id).addr
    except EngineError:
        return ""
    return "" if addr in ("", "0.0.0.0") else addr
