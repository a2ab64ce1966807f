"""Restart loops: a container that its restart policy keeps bringing back is stopped, and the app says why.

The events listener counts each container's deaths. Once one died more than CASAOS_APPS_RESTART_LOOP_COUNT times
within CASAOS_APPS_RESTART_LOOP_WINDOW seconds, and the engine says its policy restarted it that often (so a
person restarting an app by hand never counts), the container is halted: restart policy "no" where the engine can
change it in place (Docker), then stopped until it stays down (Podman 4 restarts without any delay). The app
records the service, its last exit code and log line; the apps page and the API show them. Starting the app again
(its Start button, or POST /api/apps/{id}/start/) puts the restart policy back and clears the record.
"""

import logging
import time
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from casaos_site.i18n import deferred, deferred_within
from runtime import Engine, EngineEvent
from runtime import labels as L
from runtime.compose import Project
from runtime.errors import EngineError, NotFound

from ..models import AppEvent, AppLock, Installation
from .common import DETAIL_CHARS
from .placement import placement_local

log = logging.getLogger(__name__)
RESTARTING_POLICIES = ("always", "unless-stopped", "on-failure")
LOG_CHARS = 160  # of the last log line kept and shown (the detail line holds 255 characters in all)


class RestartWatch:
    """Deaths per container within a sliding window (the listener's memory: when it restarts, counting starts anew)."""

    def __init__(self, *, count: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count, self.window, self.clock = count, window, clock
        self._deaths: dict[str, deque[float]] = {}

    def died(self, container_id: str) -> bool:
        """Note a death; True once the container died more than `count` times within the window."""
        now = self.clock()
        deaths = self._deaths.setdefault(container_id, deque())
        deaths.append(now)
        while now - deaths[0] > self.window:
            deaths.popleft()
        return len(deaths) > self.count

    def forget(self, container_id: str) -> None:
        self._deaths.pop(container_id, None)


def restart_watch() -> RestartWatch:
    """A watch with the configured bounds."""
    return RestartWatch(count=settings.APPS_RESTART_LOOP_COUNT, window=settings.APPS_RESTART_LOOP_WINDOW)


def restart_loop_check(*, eng: Engine, event: EngineEvent, watch: RestartWatch) -> bool:
    """On a container's death: halt it and record why when it is in a restart loop (True then)."""
    if not watch.died(event.container_id):
        return False
    inst = _settled_app(event.labels.get(L.APP, ""))
    service = event.labels.get(L.SERVICE, event.name)
    if inst is None or service in inst.restart_loop:
        return False  # an install or a change in progress judges its own containers; a recorded loop is handled
    if not placement_local(inst.placement):
        return False  # a swarm task's container (here or elsewhere): Swarm's restart policy governs it
    try:
        raw = eng.container_config(event.container_id)
        if not _policy_keeps_restarting(raw, watch.count):
            return False
        eng.halt(event.container_id)
    except NotFound:
        return False
    watch.forget(event.container_id)
    _record(inst, service, raw, code=_exit_code(event, raw), last_line=_last_line(eng, event.container_id))
    return True


def restart_loop_clear(*, inst: Installation, eng: Engine, project: Project) -> None:
    """Before the app starts again: its halted containers get their restart policy back, and the record goes."""
    for service in inst.restart_loop:
        try:
            spec = project.container(service)
            eng.restart_policy_set(spec.name, spec.restart)
        except (KeyError, NotFound):
            continue  # the service or its container is gone: it is created afresh with its policy
    Installation.objects.filter(pk=inst.pk).update(restart_loop={})
    inst.restart_loop = {}


def restart_loops_current(inst: Installation, running_services: set[str]) -> dict:
    """The recorded loops still true: a service running again (started outside, or recreated) is no longer one."""
    return {service: entry for service, entry in inst.restart_loop.items() if service not in running_services}


def restart_loop_detail(loops: dict) -> str:
    """The status line of an app with halted loops, in words, with the way out."""
    if not loops:
        return ""
    service, entry = next(iter(loops.items()))
    if entry.get("log"):
        return deferred_within(
            DETAIL_CHARS,
            "Restarting repeatedly: %(service)s exited with code %(code)s (%(log)s). Stopped; start the app to try again.",
            service=service,
            code=entry.get("exit_code"),
            log=entry["log"],
        )
    return deferred(
        "Restarting repeatedly: %(service)s exited with code %(code)s. Stopped; start the app to try again.",
        service=service,
        code=entry.get("exit_code"),
    )


def _settled_app(name: str) -> Installation | None:
    """The app, when it is installed and no operation runs on it."""
    inst = Installation.objects.filter(name=name, status__in=Installation.SETTLED).first()
    if inst is None or AppLock.objects.filter(installation=inst).exists():
        return None
    return inst


def _policy_keeps_restarting(raw: dict, count: int) -> bool:
    """The engine's own word: a restarting policy, and at least `count` restarts since the last start by hand."""
    policy = ((raw.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") or "no"
    return policy in RESTARTING_POLICIES and int(raw.get("RestartCount") or 0) >= count


def _exit_code(event: EngineEvent, raw: dict) -> int | None:
    """The death's own exit code: Podman has already reset the container's by the time we inspect it (restarting)."""
    return event.exit_code if event.exit_code is not None else (raw.get("State") or {}).get("ExitCode")


def _last_line(eng: Engine, container_id: str) -> str:
    try:
        lines = [line.strip() for line in eng.logs(container_id, tail=5) if line.strip()]
    except EngineError:
        return ""
    return lines[-1][:LOG_CHARS] if lines else ""


def _record(inst: Installation, service: str, raw: dict, *, code: int | None, last_line: str) -> None:
    """Keep the loop on the app, and a line in its history (the listener's next refresh publishes the state)."""
    entry = {
        "exit_code": code,
        "log": last_line,
        "restarts": int(raw.get("RestartCount") or 0),
        "at": timezone.now().isoformat(),
    }
    loops = {**inst.restart_loop, service: entry}
    Installation.objects.filter(pk=inst.pk).update(restart_loop=loops)
    inst.restart_loop = loops
    AppEvent.objects.create(
        installation=inst, operation="restart_loop", outcome=AppEvent.Outcome.FAILED, message=restart_loop_detail(loops)
    )
    log.warning("%s: %s kept restarting (exit code %s); stopped it", inst.name, service, entry["exit_code"])
