"""Reads of installed apps: the one state shape the page, the API and the websocket all show; who sees which
app, tiles, the detail view, live resource use."""

import contextlib
import re
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from appstore.selectors import installed_title
from casaos_site.i18n import shown, shown_in
from runtime import ContainerInfo, Engine
from runtime import labels as L
from runtime.compose import ComposeError
from runtime.errors import EngineError, NotFound

from .models import AppEvent, AppGrant, AppTile, Installation

# Environment names whose values are secrets: shown masked on the detail page.
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|PRIVATE|CREDENTIAL|AUTH|SALT|COOKIE", re.IGNORECASE)
MASK = "••••••"

BRINGING_UP = ("start", "restart")  # operations after which an app counts as running only once it is ready

# The steps of an install, in order, as the progress page lists them.
STEPS = (
    Installation.Status.PENDING,
    Installation.Status.PULLING,
    Installation.Status.CREATING,
    Installation.Status.STARTING,
    Installation.Status.RUNNING,
)


def app_list() -> QuerySet[Installation]:
    """Every app, by name."""
    return Installation.objects.order_by("name")


def app_get(*, pk: int) -> Installation:
    """One app by id (Installation.DoesNotExist when absent)."""
    return Installation.objects.get(pk=pk)


def app_name_taken(*, name: str) -> bool:
    """True when a row already uses the name."""
    return Installation.objects.filter(name=name).exists()


def app_containers_of(*, eng: Engine, name: str, **labels: str) -> list[ContainerInfo]:
    """The app's containers on the engine (optionally with more labels), without old ones set aside by a change
    that is still running: those belong to the change, which removes them or puts them back."""
    return [c for c in eng.list({L.APP: name, **labels}) if not L.is_aside(c.name)]


def app_claimed_ports(*, exclude_pk: int | None = None) -> dict[str, str]:
    """Host ports ("tcp/8080") claimed by apps that hold engine objects, mapped to the app's name."""
    claimed: dict[str, str] = {}
    rows = Installation.objects.exclude(status__in=Installation.ENDED).exclude(pk=exclude_pk)
    for name, ports in rows.values_list("name", "ports"):
        claimed.update(dict.fromkeys(ports or (), name))
    return claimed


def app_state(installation: Installation) -> dict[str, Any]:
    """Everything a page or API client shows about an app; also the payload of every live event."""
    inst = installation
    operation = app_operation(inst)
    status = Installation.Status(inst.status)
    if status in Installation.SETTLED and operation in BRINGING_UP:
        # Its containers may run already, but as with an install it is ready once its web port answers (or its
        # health checks pass): the start or restart waits for that, then records the real status.
        status = Installation.Status.STARTING
    progress = inst.progress or {}
    return {
        "id": inst.pk,
        "name": inst.name,
        "title": installed_title(inst),  # the store's title in the reader's language
        "source": inst.source,
        "status": status.value,
        "status_label": str(status.label),
        "in_progress": inst.in_progress,
        "settled": inst.status in Installation.SETTLED,  # installed: running, stopped or partly running
        "cancel_requested": inst.cancel_requested,
        "operation": operation,
        "actions": _actions(inst, operation),
        "detail": inst.detail,
        "error": inst.error,
        "restart_loop": [{"service": service, **entry} for service, entry in (inst.restart_loop or {}).items()],
        "web_port": inst.web_port,
        "placement": inst.placement or {},
        "steps": _steps(status, progress.get("stopped_at", "")),
        "progress": {
            "percent": progress.get("percent", 0.0),
            "current": progress.get("current", 0),
            "total": progress.get("total", 0),
            "images": progress.get("images", []),
            "timings": progress.get("timings", {}),  # ms per step of a finished install: queued, pulling, ...
        },
        "updated_at": inst.updated_at.isoformat() if inst.updated_at else None,
    }


def app_state_shown(state: dict[str, Any]) -> dict[str, Any]:
    """An app's state for a reader (an API answer, a JSON frame): its stored messages (`detail`, `error`), status
    and steps in the active language, whichever language the process that built it had (a worker publishes it)."""
    shown = shown_in(state, "detail", "error", "update_reason")
    if "status" in state:  # an event may carry only what changed: translate what is there, add nothing
        shown["status_label"] = str(Installation.Status(state["status"]).label)
    if "steps" in state:
        shown["steps"] = [{**step, "label": str(Installation.Status(step["key"]).label)} for step in state["steps"]]
    return shown


def app_operation(inst: Installation) -> str:
    """The operation running on the app now, or "" (its lock: one query unless the caller selected it; an install
    in progress holds none, so its many progress events cost nothing)."""
    if inst.pk is None or inst.status in Installation.IN_PROGRESS:
        return ""
    lock = getattr(inst, "lock", None)
    return lock.operation if lock is not None else ""


def _actions(inst: Installation, operation: str) -> list[str]:
    """What may be asked of the app now: the pages show these buttons and no others (members: start and open)."""
    status = inst.status
    if status in Installation.IN_PROGRESS:
        return [] if inst.cancel_requested else ["cancel"]
    if operation or status == Installation.Status.REMOVING:
        return []
    if status in Installation.ENDED:
        return ["retry", "remove"]
    actions = ["open", "restart", "update", "settings", "remove"]
    if status != Installation.Status.RUNNING:
        actions.append("start")
    if status != Installation.Status.STOPPED:
        actions.append("stop")
    return actions


def _steps(status: Installation.Status, stopped_at: str) -> list[dict[str, str]]:
    """Each install step marked done, current or todo; a failed or cancelled install marks where it stopped."""
    if status in Installation.SETTLED:
        return [{"key": s.value, "label": str(s.label), "state": "done"} for s in STEPS]
    ended = status in Installation.ENDED
    current = stopped_at if ended else (status if status in STEPS else None)
    result, reached = [], current in STEPS
    for step in STEPS:
        if step == current:
            state, reached = ("stopped" if ended else "current"), False
        else:
            state = "done" if reached else "todo"
        result.append({"key": step.value, "label": str(step.label), "state": state})
    return result


def app_visible(*, user) -> QuerySet[Installation]:
    """Admins see every app; a member sees only the apps granted to them."""
    # app_state reads the running operation and the store's title in the reader's language
    apps = Installation.objects.order_by("name").select_related("lock", "store_template")
    if getattr(user, "is_admin", False):
        return apps
    if not getattr(user, "is_authenticated", False):
        return apps.none()
    return apps.filter(grants__user=user)


def app_get_for(*, user, pk: int) -> Installation:
    """One app this user may reach; Http404 otherwise (an ungranted app looks exactly like a missing one)."""
    inst = app_visible(user=user).filter(pk=pk).first()
    if inst is None:
        raise Http404
    return inst


def app_is_visible(*, user, pk: int) -> bool:
    return app_visible(user=user).filter(pk=pk).exists()


def app_tiles(*, user, show_hidden: bool = False) -> list[dict[str, Any]]:
    """The apps page: one tile per visible app, in the user's order, hidden ones left out unless asked."""
    places = {t.installation_id: t for t in AppTile.objects.filter(user=user)}
    apps = list(app_visible(user=user).select_related("update_state", "lock", "store_template"))
    icons = _icons(apps)  # every tile's icon in one query, not one per store app
    apps.sort(key=lambda i: (places[i.pk].position if i.pk in places else 10_000, i.name))
    tiles = []
    for inst in apps:
        hidden = places[inst.pk].hidden if inst.pk in places else False
        if hidden and not show_hidden:
            continue
        tiles.append({**app_card(inst, icons=icons), "hidden": hidden})
    return tiles


def app_card(inst: Installation, *, icons: dict[str, str] | None = None) -> dict[str, Any]:
    """What a tile (and every live event about the app) shows: state, operation, update, how to open it.

    `icons`: the icons of many apps looked up at once (_icons); one query for this app's otherwise."""
    # Reverse one-to-ones: cached when the caller used select_related, one small query otherwise.
    update = inst.update_state if hasattr(inst, "update_state") else None
    state = app_state(inst)
    return {
        **state,
        "icon": (icons if icons is not None else _icons([inst])).get(inst.store_ref, ""),
        "initial": state["title"][:1].upper(),
        "update_available": bool((update and update.available) or _store_marked(inst)) and not (update and update.held),
        "held": bool(update and update.held),
        "update_reason": update.reason if update else "",
    }


def app_open_url(*, inst: Installation, request_host: str) -> str:
    """The app's web UI: its scheme, the host the browser used (unless the template fixes one), port, index."""
    if not inst.web_port:
        return ""
    meta = _casaos(inst)
    scheme = meta["scheme"] if meta.get("scheme") in ("http", "https") else "http"
    host = meta.get("hostname") or _swarm_host(inst) or request_host
    index = meta.get("index") or "/"
    return f"{scheme}://{host}:{inst.web_port}{index if index.startswith('/') else '/' + index}"


def _swarm_host(inst: Installation) -> str:
    """For an app on the swarm, the address of the machine running its web service ("" for an app on this box)."""
    from .services.common import engine_for
    from .services.install import app_project
    from .services.placement import LOOPBACK, placement_local, web_host

    if placement_local(inst.placement):
        return ""
    try:
        host = web_host(eng=engine_for(inst), project=app_project(installation=inst), port=inst.web_port)
    except (ComposeError, ValueError):
        return ""
    return "" if host == LOOPBACK else host


def app_detail(*, inst: Installation, eng) -> dict[str, Any]:
    """The detail page: containers with ports, mounts, masked env, image and version; history; update state; where
    the app runs (an app on the swarm)."""
    return {
        "card": app_card(inst),
        "containers": app_containers(inst=inst, eng=eng),
        "history": app_history(inst=inst),
        "where": app_where(inst=inst),
    }


def app_where(*, inst: Installation) -> str:
    """Where an app on the swarm was placed, in words ("" for an app on this box)."""
    from .services.placement import placement_local, placement_words, swarm_nodes

    if placement_local(inst.placement):
        return ""
    hostnames = {n.id: n.hostname for n in swarm_nodes()} if inst.placement.get("where") == "node" else {}
    return shown(placement_words(inst.placement, hostnames))


def app_containers(*, inst: Installation, eng) -> list[dict[str, Any]]:
    """Each service's container as the page lists it; its state is what the engine says now (also pushed live)."""
    live = _inspected(inst, eng)
    facts = [_container_facts(spec, live.get(spec.name)) for spec in _specs(inst)]
    if hasattr(eng, "tasks"):  # a Swarm engine: each service says which machine runs it
        for fact in facts:
            fact["node"] = _runs_on(eng, fact["name"])
    return facts


def _runs_on(eng, service: str) -> str:
    """The hostname of the machine running the service's newest task ("" while unassigned or unknown)."""
    try:
        tasks = eng.tasks(service)
    except EngineError:
        return ""
    return tasks[0].node if tasks else ""


def _inspected(inst: Installation, eng) -> dict[str, ContainerInfo]:
    # Inspect, not the list alone: Docker's container list still says "running" for a moment after `die`, and the
    # events listener pushes this right after that event.
    found = {}
    try:
        for listed in app_containers_of(eng=eng, name=inst.name):
            with contextlib.suppress(NotFound):  # removed meanwhile
                found[listed.name] = eng.inspect(listed.id)
    except EngineError:
        return {}
    return found


def _container_facts(spec, info: ContainerInfo | None) -> dict[str, Any]:
    return {
        "service": spec.service,
        "name": spec.name,
        "image": spec.image,
        "version": spec.image.rpartition(":")[2] if ":" in spec.image.rpartition("/")[2] else "latest",
        "state": info.state if info else "missing",
        "health": info.health if info else "",
        "running": bool(info and info.running),
        "id": info.id if info else "",
        "ports": [
            f"{p.host_ip + ':' if p.host_ip else ''}{p.published}:{p.target}/{p.protocol}"
            for p in spec.ports
            if p.published
        ],
        "port_pairs": [  # the page reads them "host port → container port"
            {"host": f"{p.host_ip + ':' if p.host_ip else ''}{p.published}", "container": f"{p.target}/{p.protocol}"}
            for p in spec.ports
            if p.published
        ],
        "mounts": [
            {"type": m.type, "source": m.source, "target": m.target, "read_only": m.read_only} for m in spec.mounts
        ],
        "env": [{"name": k, "value": MASK if SECRET_NAME.search(k) else v} for k, v in sorted(spec.env.items())],
        "restart": spec.restart,
        "node": "",
        "cpus": spec.cpus,
        "memory": spec.mem_limit,
    }


def app_history(*, inst: Installation, limit: int = 20) -> list[AppEvent]:
    return list(AppEvent.objects.filter(installation=inst).select_related("user")[:limit])


def app_stats(*, inst: Installation, eng) -> dict[str, Any]:
    """CPU (100 = one core) and memory of the app's running containers, summed and per service; `elsewhere` lists,
    per machine, the services running on another machine of the swarm, which this box cannot measure (no agent)."""
    services, elsewhere, cpu, memory = [], {}, 0.0, 0
    try:
        containers = [c for c in app_containers_of(eng=eng, name=inst.name) if c.running]
    except EngineError:
        containers = []
    for info in containers:
        service = info.labels.get(L.SERVICE, info.name)
        try:
            sample = eng.stats(info.id)
        except NotFound:
            continue
        except EngineError as exc:
            if "node" in exc.params:
                elsewhere.setdefault(exc.params["node"], []).append(service)
            continue
        cpu += sample.cpu_percent
        memory += sample.memory_usage
        services.append(
            {
                "service": service,
                "cpu_percent": sample.cpu_percent,
                "memory_usage": sample.memory_usage,
                "memory_limit": sample.memory_limit,
            }
        )
    return {
        "id": inst.pk,
        "cpu_percent": round(cpu, 2),
        "memory_usage": memory,
        "services": services,
        "elsewhere": [{"node": node, "services": sorted(names)} for node, names in sorted(elsewhere.items())],
    }


def app_services(*, inst: Installation) -> list[str]:
    """Service names in start order (for the logs and terminal pickers)."""
    return [spec.service for spec in _specs(inst)]


def app_container_of(*, inst: Installation, service: str, eng) -> str:
    """The container id of one service of the app (NotFound when it has none)."""
    for info in app_containers_of(eng=eng, name=inst.name, **{L.SERVICE: service}):
        return info.id
    raise NotFound(_("%(app)s has no container for %(service)s.") % {"app": inst.name, "service": service})


def grants_of(*, inst: Installation) -> list[int]:
    return list(AppGrant.objects.filter(installation=inst).values_list("user_id", flat=True))


def _specs(inst: Installation):
    from .services.install import app_project

    try:
        return app_project(installation=inst).containers
    except (ComposeError, ValueError):
        return ()


def _casaos(inst: Installation) -> dict[str, Any]:
    from runtime.compose import load_yaml

    try:
        meta = load_yaml(inst.compose).get("x-casaos")
    except ComposeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _store_marked(inst: Installation) -> bool:
    """The app store marks store apps at each sync (their installed template); the apps page shows that mark at
    once. Cached when the caller selected `store_template`, one small query otherwise."""
    if inst.source != Installation.Source.STORE:
        return False
    template = inst.store_template if hasattr(inst, "store_template") else None
    return bool(template and template.update_available)


def _icons(apps: list[Installation]) -> dict[str, str]:
    """The store's copy of each store app's icon (served by our own origin, never hotlinked) by its store_ref, in
    one query; an app without one is missing (its tile shows its initial)."""
    refs = [i.store_ref for i in apps if i.source == Installation.Source.STORE and i.store_ref.isdigit()]
    if not refs:
        return {}
    from django.urls import reverse

    from appstore.models import CatalogApp

    rows = CatalogApp.objects.filter(pk__in=refs).exclude(icon="").values_list("pk", "icon")
    return {str(pk): reverse("appstore-asset", args=[icon]) for pk, icon in rows}
