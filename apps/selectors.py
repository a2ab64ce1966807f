"""Reads of installed apps, and the one state shape the page, the API and the websocket all show."""

from typing import Any

from django.db.models import QuerySet

from appstore.selectors import installed_title
from runtime import ContainerInfo, Engine
from runtime import labels as L

from .models import Installation

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
