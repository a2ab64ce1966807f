"""What every apps service shares: the engine, the error types and the one way state reaches pages."""

import asyncio
import os
import queue
import threading

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

import runtime
from casaos_site.events import apublish
from casaos_site.i18n import deferred, shown
from runtime.compose import ComposeError
from runtime.errors import EngineError
from runtime.subnets import SubnetPool

from ..models import Installation
from ..selectors import app_state

APPS_GROUP = "apps"  # the installed-apps list listens here; each app also has its own group
STATE_EVENT = "app.state"
REMOVED_EVENT = "app.removed"
DETAIL_CHARS = 255  # Installation.detail's column: a longer stored message is cut to fit (casaos_site.i18n)


class InstallError(ValidationError):
    """An install or uninstall request we refuse; the message says why in words an admin can act on.

    Raised with a deferred() message: its text is in the language active now (a request's), and `stored` keeps the
    id and parameters for a task to record, shown later in each reader's own language."""

    def __init__(self, message: str, *, code: str) -> None:
        self.stored = message
        super().__init__(shown(message), code=code)


class ComposeInvalid(InstallError):
    """A compose document we cannot read; for a YAML error, `position` says where (line, column, the line's text)."""

    def __init__(self, error: ValueError) -> None:
        super().__init__(compose_invalid(error), code="compose")
        line = getattr(error, "line", 0)  # a ComposeError from the YAML parser knows where; others say 0
        self.position = {"line": line, "column": error.column, "source_line": error.source_line} if line else None


class PolicyError(InstallError):
    """A refusal of the container policy; `findings` are the payload values at fault, `flags` their plain words."""

    def __init__(self, message: str, *, code: str, findings=(), flags: list[str] | None = None) -> None:
        super().__init__(message, code=code)
        self.findings = list(findings)
        self.flags = flags if flags is not None else list(dict.fromkeys(f.reason for f in self.findings))


class ConsentRequired(PolicyError):
    """The app asks for host access: an admin must see `flags`, consent and confirm (step-up)."""

    def __init__(self, message: str, *, flags: list[str] | None = None, findings=(), stepup: bool = False) -> None:
        super().__init__(message, code="consent", findings=findings, flags=flags)
        self.stepup = stepup  # True: consent was given, but the step-up re-check is missing or stale


def compose_invalid(error: ValueError) -> str:
    """Why a compose document was refused (the parser's own words about it stay as they are)."""
    return deferred("The compose document is not valid: %(error)s", error=str(error))


def error_stored(exc: Exception) -> str:
    """What a task records for a refusal or failure: our words as a message id with parameters (casaos_site.i18n),
    the engine's own text as it is."""
    if isinstance(exc, InstallError):
        return exc.stored
    if isinstance(exc, ComposeError):
        return compose_invalid(exc)
    if isinstance(exc, EngineError):
        return engine_words(exc)
    return str(exc)  # InstallFailed: raised with a deferred() message already


def engine_words(exc: EngineError) -> str:
    """An engine error to store or show: runtime's own words as a message id (EngineError.worded), the engine's text
    as it is."""
    return deferred(exc.template, **exc.params) if exc.template else exc.message


def engine_said(exc: EngineError) -> str:
    """An engine error in the language active now (a request's answer)."""
    return shown(engine_words(exc))


class InstallFailed(Exception):
    """A step of the pipeline failed; the message is what the page shows."""


class InstallCancelled(Exception):
    """The admin cancelled the install; raised from inside the pipeline to unwind it."""


_engines: dict[tuple[str, int], runtime.Engine] = {}
_engines_lock = threading.Lock()


def engine() -> runtime.Engine:
    """The configured engine (Docker or Podman, both through the Docker API), one client per URL and process.

    Reusing it saves the API-version negotiation and a new socket on every call of an install's critical path
    (a worker's pool processes warm theirs when they start: apps.tasks).
    """
    key = (settings.ENGINE_URL, settings.APPS_PIDS_LIMIT)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = runtime.get_engine(key[0], pids_limit=key[1])
        return _engines[key]


_swarm_engines: dict[tuple, runtime.Engine] = {}


def engine_for(installation: Installation) -> runtime.Engine:
    """The engine of one installation: the plain engine for an app on this box, else a Swarm engine placing its
    services as the installation asks (apps.services.placement), one client per placement and process."""
    from .placement import placement_local, placement_runtime

    if placement_local(installation.placement):
        return engine()
    placement = placement_runtime(installation.placement)
    key = (settings.ENGINE_URL, settings.APPS_PIDS_LIMIT, placement)
    with _engines_lock:
        if key not in _swarm_engines:
            _swarm_engines[key] = swarm_engine(placement)
        return _swarm_engines[key]


def swarm_engine(placement=None) -> runtime.Engine:
    """A new Swarm engine on the configured URL (the swarm this box manages); the events listener uses one without
    placement, which reads every service of ours."""
    from runtime.swarm import Placement, SwarmEngine

    return SwarmEngine(settings.ENGINE_URL, placement=placement or Placement(), pids_limit=settings.APPS_PIDS_LIMIT)


def engine_is_swarm(eng: runtime.Engine) -> bool:
    """Whether `eng` is a Swarm engine (its "containers" are services)."""
    from runtime.swarm import SwarmEngine

    return isinstance(eng, SwarmEngine)


class _Publisher:
    """Sends events in order from one background thread with its own event loop, through the events helper.

    Publishing inline costs an event loop and a Redis round trip per event; an install publishes dozens, and
    each one would hold up the pull stream or the next engine call. The database stays the truth either way.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._pid = 0
        self._lock = threading.Lock()

    def send(self, group: str, event: str, data: dict) -> None:
        self._ensure_thread()
        self._queue.put((group, event, data))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far went out (end of a task, tests)."""
        if self._pid == os.getpid():
            done = threading.Event()
            self._queue.put(done)
            done.wait(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (or a fork: threads do not survive it)
                self._queue = queue.Queue()
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="apps-publisher", daemon=True).start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            loop.run_until_complete(apublish(*item))


_publisher = _Publisher()


def app_publish(installation: Installation) -> None:
    """Push the app's current state to its own page and to the apps list (in order, without waiting)."""
    state = app_state(installation)
    _publisher.send(installation.group, STATE_EVENT, state)
    _publisher.send(APPS_GROUP, STATE_EVENT, state)


def app_publish_removed(pk: int) -> None:
    """Tell the app's page and the list that the app is gone."""
    for group in (f"app.{pk}", APPS_GROUP):
        _publisher.send(group, REMOVED_EVENT, {"id": pk})


def app_publish_flush() -> None:
    """Block until queued events went out."""
    _publisher.flush()


def app_update(installation: Installation, *, publish_state: bool = True, write: bool = True, **fields) -> Installation:
    """Write some fields (and the heartbeat) without touching the rest of the row, then publish.

    `write=False` only updates the instance and publishes (the caller already wrote the row).
    """
    fields.setdefault("heartbeat_at", timezone.now())
    fields["updated_at"] = timezone.now()
    if write:
        Installation.objects.filter(pk=installation.pk).update(**fields)
    for key, value in fields.items():
        setattr(installation, key, value)
    if publish_state:
        app_publish(installation)
    return installation


def never_pulled(image: str) -> str:
    """Why an image with `pull_policy: never` stops an install (stored: shown() gives it to a request's reader)."""
    return deferred(
        "The image %(image)s is not on this machine, and the app asks never to download it (pull_policy: never).",
        image=image,
    )


def app_subnet_pool() -> SubnetPool:
    """The pool app networks take their subnets from (CASAOS_APPS_SUBNET_POOL, checked at start)."""
    return SubnetPool.parse(settings.APPS_SUBNET_POOL, settings.APPS_SUBNET_PREFIX)
