"""The swarm this box manages: its state, making this box a manager (a task), join tokens, and the nodes' availability,
labels and removal. Every write is audited, then announced to the Nodes page's group; the engine holds the truth.

Pages and the API call these alone; `swarm()` and `swarm_active()` are what the apps' placement asks too.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.services.audit import audit_record
from casaos_site import events
from casaos_site.i18n import deferred, shown
from runtime.errors import Conflict, EngineError, EngineUnavailable, InvalidSpec, NotFound
from runtime.swarm.model import AVAILABILITIES, ROLES, JoinInfo, NodeInfo, SwarmState

if TYPE_CHECKING:
    from runtime.swarm.cluster import Swarm

from .models import SwarmInit

LABEL_PART = re.compile(r"[A-Za-z0-9._-]+")  # nothing a constraint expression (node.labels.k==v) reads specially
LABEL_KEY_MAX = 64
LABEL_VALUE_MAX = 128
LABELS_MAX = 32
INIT_STALE = timedelta(minutes=10)  # an init still "open" after this was lost with its worker: a new one may start
NO_SWARM_MODE = gettext_noop("This box's engine has no Swarm mode (Podman has none): several machines need Docker.")
NOT_MANAGER = gettext_noop("This box is not a swarm manager: make it one first.")
CHANGED_EVENT = "nodes.changed"  # something changed: the page re-reads the engine
INIT_EVENT = "nodes.init"  # the init's progress: {"state": ..., "error": ...}

_swarms: dict[str, Swarm] = {}
_active: dict[str, tuple[float, bool]] = {}
_lock = threading.Lock()


class NodesRefused(Exception):
    """A swarm change we will not make, and why; `field` names the input, `status` is its 4xx (503: engine away)."""

    def __init__(self, message: str, *, field: str = "", status: int = 400, code: str = "invalid", **extra) -> None:
        self.stored = message  # a deferred() id or the engine's own words
        self.message = shown(message)
        super().__init__(self.message)
        self.field, self.status, self.code, self.extra = field, status, code, extra


def engine_words(exc: EngineError) -> str:
    """An engine error to store: runtime's own words as a message id (EngineError.worded), the engine's as they are."""
    return deferred(exc.template, **exc.params) if exc.template else exc.message


def refused_by_engine(exc: EngineError) -> NodesRefused:
    """An engine refusal as ours: 409 for a state that forbids it, 404 for no such node, 503 when it is away."""
    for kind, status, code in (
        (EngineUnavailable, 503, "engine"),
        (NotFound, 404, "not_found"),
        (Conflict, 409, "conflict"),
        (InvalidSpec, 400, "invalid"),
    ):
        if isinstance(exc, kind):
            return NodesRefused(engine_words(exc), status=status, code=code)
    return NodesRefused(engine_words(exc), status=503, code="engine")


# ---------------------------------------------------------------------------- reads
def swarm() -> Swarm:
    """The swarm as this box's engine (settings.ENGINE_URL) sees it; one client per URL and process."""
    url = settings.ENGINE_URL
    with _lock:
        if url not in _swarms:
            from runtime.swarm.cluster import Swarm  # docker-py comes with it: loaded on first use

            _swarms[url] = Swarm(url)
        return _swarms[url]


def swarm_active() -> bool:
    """Whether this box manages an active swarm. Cached a few seconds: the install form and the apps ask it often,
    and an engine that does not answer counts as "no swarm" (the plain engine's own errors say the rest)."""
    url, now = settings.ENGINE_URL, time.monotonic()
    hit = _active.get(url)
    if hit and now - hit[0] < settings.NODES_ACTIVE_CACHE:
        return hit[1]
    try:
        state = swarm().state()
        active = state.active and state.manager
    except EngineError:
        active = False
    _active[url] = (now, active)
    return active


def swarm_active_forget() -> None:
    """After a change of the swarm itself: the next swarm_active() asks the engine again."""
    _active.clear()


def swarm_state() -> SwarmState:
    """This box's place in a swarm (NodesRefused 503 when the engine does not answer)."""
    try:
        return swarm().state()
    except EngineError as exc:
        raise refused_by_engine(exc) from exc


def _engine(call):
    """Run one engine call; its refusal as NodesRefused."""
    try:
        return call()
    except EngineError as exc:
        raise refused_by_engine(exc) from exc


def _managing() -> Swarm:
    """The swarm, when this box manages one; 409 otherwise."""
    state = swarm_state()
    if not (state.active and state.manager):
        raise NodesRefused(deferred(NOT_MANAGER), status=409, code="not_manager")
    return swarm()


def nodes_list() -> list[NodeInfo]:
    """Every node of the swarm this box manages (409 when it manages none)."""
    cluster = _managing()
    return _engine(cluster.nodes)


def join_info() -> JoinInfo:
    """The join tokens and this manager's address (409 when this box manages no swarm)."""
    cluster = _managing()
    return _engine(cluster.join_info)


def box_addresses() -> list[str]:
    """This box's own addresses another machine could reach it at: IPv4 and global IPv6 of its real interfaces
    (no loopback, link-local or container bridges), IPv4 first."""
    from network.selectors import links  # the one reader of the box's interfaces
    from storage.host.errors import HostError

    try:
        interfaces = links().interfaces()
    except HostError:
        return []
    found = [a.address for i in interfaces if not i.hidden for a in i.addresses if _reachable(a.address)]
    return sorted(dict.fromkeys(found), key=lambda a: (":" in a, a))


def _reachable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def init_latest() -> SwarmInit | None:
    """The newest init request, if any."""
    return SwarmInit.objects.first()


def init_open() -> SwarmInit | None:
    """An init queued or running now (one lost with its worker long ago does not count)."""
    row = init_latest()
    if row and row.open and timezone.now() - row.created_at < INIT_STALE:
        return row
    return None


# ---------------------------------------------------------------------------- making this box a manager
def _check_init(advertise_addr: str) -> str:
    """Refusals before anything is queued: in a swarm already (409), an address not of this box (400)."""
    if init_open():
        raise NodesRefused(deferred("This box is being made a manager already."), status=409, code="busy")
    state = swarm_state()
    if not _engine(swarm().has_swarm_mode):
        raise NodesRefused(deferred(NO_SWARM_MODE), status=409, code="no_swarm_mode")
    if state.local_state != "inactive":
        raise NodesRefused(
            deferred("This box is in a swarm already (node %(node)s).", node=state.node_id or "?"),
            status=409,
            code="conflict",
        )
    choices = box_addresses()
    if advertise_addr not in choices:
        raise NodesRefused(
            deferred("Choose one of this box's addresses: %(choices)s.", choices=", ".join(choices) or "-"),
            field="advertise_addr",
            choices=choices,
        )
    if not settings.NODES_INIT:
        raise NodesRefused(
            deferred("Making a swarm is switched off on this box (CASAOS_NODES_INIT=0)."), status=409, code="off"
        )
    return advertise_addr


def swarm_init(*, user, advertise_addr: str, request=None) -> SwarmInit:
    """Make this box the first manager of a new swarm on one of its addresses: queued (swarm init takes seconds)."""
    from .tasks import swarm_init_task

    address = _check_init(str(advertise_addr or "").strip())
    row = SwarmInit.objects.create(advertise_addr=address, requested_by=user)
    audit_record(actor=user, action="nodes.init", request=request, target=address)
    transaction.on_commit(lambda: swarm_init_task.delay(row.pk))
    events.publish_on_commit(settings.NODES_GROUP, INIT_EVENT, {"state": "initialising", "error": ""})
    return row


def swarm_init_run(*, init_id: int) -> None:
    """The task's work: `swarm init`, then the outcome recorded from what the engine says now."""
    row = SwarmInit.objects.get(pk=init_id)
    if not row.open:
        return  # a redelivered task whose work is done
    row.state = SwarmInit.State.RUNNING
    row.save(update_fields=["state"])
    events.publish(settings.NODES_GROUP, INIT_EVENT, {"state": "initialising", "error": ""})
    error = ""
    try:
        row.node_id = swarm().init(row.advertise_addr)
    except EngineError as exc:
        error = engine_words(exc)
    _init_finish(row, error)


def _init_finish(row: SwarmInit, error: str) -> None:
    """Done when the engine now manages an active swarm (also after a redelivered init met its own swarm)."""
    swarm_active_forget()
    try:
        state = swarm().state()
    except EngineError as exc:
        state, error = None, error or engine_words(exc)
    done = bool(state and state.active and state.manager)
    row.state = SwarmInit.State.DONE if done else SwarmInit.State.FAILED
    row.error = "" if done else error or deferred("The engine did not become a swarm manager.")
    row.node_id = row.node_id or (state.node_id if state else "")
    row.finished_at = timezone.now()
    row.save(update_fields=["state", "error", "node_id", "finished_at"])
    events.publish(settings.NODES_GROUP, INIT_EVENT, {"state": row.state, "error": row.error})


# ---------------------------------------------------------------------------- tokens and nodes
def join_token_rotate(*, user, role: str, request=None) -> JoinInfo:
    """A new join token for a role: the old one stops working for machines not in yet."""
    if role not in ROLES:
        raise NodesRefused(deferred("Choose worker or manager."), field="role")
    cluster = _managing()
    info = _engine(lambda: cluster.rotate(role))
    audit_record(actor=user, action="nodes.rotate", request=request, target=role)
    events.publish(settings.NODES_GROUP, CHANGED_EVENT, {"what": "tokens"})
    return info


def labels_checked(labels) -> dict[str, str]:
    """Node labels as placement reads them: keys and values of letters, digits, '.', '_' and '-', bounded in length
    and number (node.labels.<key>==<value> is a constraint expression: nothing else may reach it)."""
    if not isinstance(labels, dict):
        raise NodesRefused(deferred("Labels are key=value pairs."), field="labels")
    if len(labels) > LABELS_MAX:
        raise NodesRefused(deferred("At most %(count)s labels per machine.", count=LABELS_MAX), field="labels")
    for key, value in labels.items():
        if not _label_part_ok(key, LABEL_KEY_MAX):
            raise NodesRefused(deferred(BAD_LABEL_KEY, text=_cut(key), limit=LABEL_KEY_MAX), field="labels")
        if not _label_part_ok(value, LABEL_VALUE_MAX):
            raise NodesRefused(deferred(BAD_LABEL_VALUE, text=_cut(value), limit=LABEL_VALUE_MAX), field="labels")
    return {str(k): str(v) for k, v in labels.items()}


BAD_LABEL_KEY = gettext_noop("Label key %(text)s: use letters, digits, '.', '_' and '-' only, at most %(limit)s.")
BAD_LABEL_VALUE = gettext_noop("Label value %(text)s: use letters, digits, '.', '_' and '-' only, at most %(limit)s.")


def _label_part_ok(text, limit: int) -> bool:
    return isinstance(text, str) and bool(LABEL_PART.fullmatch(text)) and len(text) <= limit


def _cut(text) -> str:
    return str(text)[:40] or '""'


def labels_parse(text: str) -> dict[str, str]:
    """The page's key=value lines (blank lines skipped) as labels; a line without "=" is refused."""
    labels = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise NodesRefused(deferred("Write each label as key=value: %(line)s", line=line[:40]), field="labels")
        labels[key.strip()] = value.strip()
    return labels_checked(labels)


def node_update(*, user, node_id: str, availability: str | None = None, labels=None, request=None) -> NodeInfo:
    """Drain, pause or activate a node and/or replace its labels."""
    if availability is not None and availability not in AVAILABILITIES:
        raise NodesRefused(deferred("Availability is active, pause or drain."), field="availability")
    checked = None if labels is None else labels_checked(labels)
    cluster = _managing()
    node = _engine(lambda: cluster.update_node(node_id, availability=availability, labels=checked))
    details = {k: v for k, v in (("availability", availability), ("labels", checked)) if v is not None}
    audit_record(actor=user, action="nodes.update", request=request, target=node.hostname, details=details)
    events.publish(settings.NODES_GROUP, CHANGED_EVENT, {"what": "node", "id": node.id})
    return node


def node_remove(*, user, node_id: str, force: bool = False, request=None) -> None:
    """Forget a node that left (or, forced, one that did not); never this box's own."""
    cluster = _managing()
    node = _engine(lambda: cluster.node(node_id))
    if node.current:
        raise NodesRefused(
            deferred("This is the box you are using: it cannot remove itself from the swarm."),
            status=409,
            code="current",
        )
    _engine(lambda: cluster.remove_node(node.id, force=force))
    audit_record(actor=user, action="nodes.remove", request=request, target=node.hostname, details={"force": force})
    events.publish(settings.NODES_GROUP, CHANGED_EVENT, {"what": "removed", "id": node.id})
