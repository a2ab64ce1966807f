"""Keeping each app's status true: the engine-events listener and the status it derives from containers."""

import contextlib
import logging
import threading
from collections.abc import Iterable

from django.db import close_old_connections, connection

from casaos_site.i18n import deferred, deferred_within
from notifications.hooks import app_status_notify
from runtime import ContainerInfo, Engine
from runtime import labels as L
from runtime.errors import Conflict, EngineError, NotFound

from ..models import Installation
from ..selectors import app_containers_of
from .common import DETAIL_CHARS, app_update, engine, engine_is_swarm, swarm_engine
from .placement import placement_local, swarm_active
from .restart_loop import restart_loop_check, restart_loop_detail, restart_loops_current, restart_watch

log = logging.getLogger(__name__)
S = Installation.Status
# Container events that can change what an app's status should say.
SWARM_LOOK_SECONDS = 30.0  # how often the events listener looks whether this box became a swarm manager
HEALTH_SECONDS = 30.0  # how often we run health checks where the engine does not (Docker's default interval)
RELEVANT = ("start", "die", "stop", "kill", "pause", "unpause", "restart", "destroy", "oom", "create")


def app_status_of(containers: Iterable[ContainerInfo]) -> tuple[str, str]:
    """(status, detail) of a settled app from its containers; a finished one-shot job (exit 0) does not count."""
    containers = list(containers)
    if not containers:
        return S.STOPPED, deferred("Its containers were removed outside CasaOS.")
    live = [c for c in containers if not (c.state == "exited" and c.exit_code == 0)] or containers
    running = [c for c in live if c.running]
    if len(running) == len(live):
        unhealthy = [c.labels.get(L.SERVICE, c.name) for c in running if c.health == "unhealthy"]
        if unhealthy:
            return S.DEGRADED, deferred_within(DETAIL_CHARS, "Unhealthy: %(services)s", services=", ".join(unhealthy))
        return S.RUNNING, ""
    if not running:
        return S.STOPPED, ""
    stopped = [c.labels.get(L.SERVICE, c.name) for c in live if not c.running]
    return S.DEGRADED, deferred_within(DETAIL_CHARS, "Not running: %(services)s", services=", ".join(stopped))


def app_status_with_loops(inst: Installation, containers: Iterable[ContainerInfo]) -> tuple[str, str, dict]:
    """(status, detail, restart loops): the containers' status, and halted restart loops said first."""
    containers = list(containers)
    status, detail = app_status_of(containers)
    loops = restart_loops_current(inst, {c.labels.get(L.SERVICE, c.name) for c in containers if c.running})
    return status, restart_loop_detail(loops) or detail, loops


def app_status_refresh(*, eng: Engine, name: str) -> Installation | None:
    """Re-read a settled app's containers and record (and push) its status when it changed."""
    inst = Installation.objects.filter(name=name, status__in=Installation.SETTLED).first()
    if inst is None:
        return None  # unknown, or the installer owns it right now
    if placement_local(inst.placement) == engine_is_swarm(eng):
        # Not this engine's app: the plain engine has no containers for a swarm app (and sees a swarm task's
        # containers on this box), the swarm none for a plain one; each listener refreshes only its own apps.
        return None
    status, detail, loops = app_status_with_loops(inst, _containers(eng, name))
    if (status, detail, loops) == (inst.status, inst.detail, inst.restart_loop):
        return inst
    # Only if nobody moved it meanwhile (an uninstall may have started between our read and this write).
    fields = {"status": status, "detail": detail, "restart_loop": loops}
    if Installation.objects.filter(pk=inst.pk, status=inst.status).update(**fields):
        app_status_notify(app=inst, before=inst.status, status=status, detail=detail)
        app_update(inst, **fields, heartbeat_at=inst.heartbeat_at)
    return inst


def _containers(eng: Engine, name: str) -> list[ContainerInfo]:
    """The app's containers as inspect sees them: Docker sends `die` before its container list stops saying
    "running", so a `docker kill` (kill, die and nothing after) would otherwise never be noticed."""
    found = []
    for listed in app_containers_of(eng=eng, name=name):
        with contextlib.suppress(NotFound):  # removed meanwhile: its destroy event follows
            found.append(eng.inspect(listed.id))
    return found


def app_health_tick(*, eng: Engine) -> list[str]:
    """Run the health checks of the apps' running containers where the engine does not (Podman without systemd).

    Docker runs them itself: nothing to do there. Every app whose checks ran has its status refreshed, so an
    unhealthy service makes the app `degraded` on Podman too. Returns those apps' names.
    """
    if eng.version().engine != "podman":
        return []
    checked: set[str] = set()
    for listed in eng.list({L.APP: None}, all=False):
        with contextlib.suppress(Conflict, NotFound):  # stopped or removed meanwhile
            if eng.inspect(listed.id).health:
                eng.run_healthcheck(listed.id)
                checked.add(listed.labels.get(L.APP, ""))
    for name in sorted(checked):
        app_status_refresh(eng=eng, name=name)
    return sorted(checked)


def app_events_listen(
    *,
    eng: Engine,
    stop: threading.Event | None = None,
    retry_seconds: float = 3.0,
    health_seconds: float = HEALTH_SECONDS,
) -> None:
    """Follow the engine's container events for our apps until `stop` is set; reconnects when the engine restarts.

    Beside it, every `health_seconds`, the health checks the engine does not run itself (app_health_tick). A death
    is also counted towards a restart loop (restart_loop.py), which halts the container.
    """
    stop = stop or threading.Event()
    watch = restart_watch()
    threading.Thread(target=_health_loop, args=(eng, stop, health_seconds), name="app-health", daemon=True).start()
    while not stop.is_set():
        try:
            _catch_up(eng)
            stream = eng.events(labels={L.APP: None})
            watcher = threading.Thread(target=lambda: (stop.wait(), stream.close()), daemon=True)
            watcher.start()
            for event in stream:
                if stop.is_set():
                    break
                if event.action.split(":")[0] in RELEVANT or event.action.startswith("health_status"):
                    close_old_connections()
                    if event.action == "die":
                        restart_loop_check(eng=eng, event=event, watch=watch)
                    app_status_refresh(eng=eng, name=event.labels.get(L.APP, ""))
        except EngineError as exc:
            log.warning("engine events interrupted (%s); reconnecting in %ss", exc.message, retry_seconds)
        except Exception:
            if stop.is_set():
                break
            log.exception("engine events listener error; reconnecting in %ss", retry_seconds)
        stop.wait(retry_seconds)


def app_events_listen_all(*, stop: threading.Event, look_seconds: float = SWARM_LOOK_SECONDS) -> None:
    """The plain engine's listener and, once this box manages a swarm, a second one following the swarm's services
    (their tasks' state is the truth for an app on the swarm), both until `stop`."""
    threading.Thread(target=_swarm_events, args=(stop, look_seconds), name="app-events-swarm", daemon=True).start()
    app_events_listen(eng=engine(), stop=stop)


def _swarm_events(stop: threading.Event, look_seconds: float) -> None:
    """Wait until this box manages a swarm (the admin may make it one later), then follow it until `stop`."""
    while not stop.is_set():
        try:
            active = swarm_active()
        except Exception:
            log.exception("could not tell whether this box manages a swarm")
            active = False
        if active:
            app_events_listen(eng=swarm_engine(), stop=stop)
            return
        stop.wait(look_seconds)


def _health_loop(eng: Engine, stop: threading.Event, seconds: float) -> None:
    while not stop.wait(seconds):
        try:
            close_old_connections()
            app_health_tick(eng=eng)
        except EngineError as exc:
            log.warning("health checks skipped this round: %s", exc.message)
        except Exception:
            log.exception("health check round failed")
    connection.close()


def _catch_up(eng: Engine) -> None:
    """What happened while nobody listened: refresh every settled app once."""
    close_old_connections()
    for name in Installation.objects.filter(status__in=Installation.SETTLED).values_list("name", flat=True):
        app_status_refresh(eng=eng, name=name)
