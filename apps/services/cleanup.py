"""Removing an app's engine objects: after a failed attempt (only what it made) and on uninstall."""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.db import close_old_connections, connection
from django.utils import timezone

from runtime import Engine
from runtime import labels as L
from runtime.errors import EngineError, NotFound

from ..models import Installation

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10


def app_objects_remove(
    *,
    eng: Engine,
    name: str,
    volumes: Iterable[str] = (),
    dirs: Iterable[str] = (),
    graceful: bool = False,
    anonymous_volumes: bool = True,
) -> list[str]:
    """Remove the app's containers and networks (found by label), the named volumes and empty folders given.

    Returns what could not be removed, in words; an object that is already gone is not a problem.
    """
    problems: list[str] = []
    app = {L.APP: name}
    for info in _attempt(lambda: eng.list(app), problems) or []:
        if graceful and info.running:  # uninstall: let the app shut down cleanly first
            _attempt(lambda i=info: eng.stop(i.id, timeout=10), problems)
        _attempt(lambda i=info: eng.remove(i.id, force=True, volumes=anonymous_volumes), problems)
    for net in _attempt(lambda: eng.list_networks(app), problems) or []:
        _attempt(lambda n=net: eng.remove_network(n.id), problems)
    for volume in volumes:
        _attempt(lambda v=volume: eng.remove_volume(v, force=True), problems)
    for folder in reversed(list(dirs)):  # deepest first; a folder that got files stays
        with contextlib.suppress(OSError):
            Path(folder).rmdir()
    return problems


def _attempt(action: Callable, problems: list[str]):
    """Run one removal; collect failures instead of stopping, so one stuck object does not keep the rest."""
    try:
        return action()
    except NotFound:
        return None
    except EngineError as exc:
        problems.append(exc.message)
        return None


@contextlib.contextmanager
def beating(touch: Callable[[], object], *, every: float, name: str) -> Iterator[None]:
    """Call `touch` every `every` seconds in a thread while the block runs (liveness for the reconcile jobs)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                close_old_connections()
                touch()
        except Exception as exc:  # a missed beat must never break the work itself
            log.warning("%s stopped: %s", name, exc)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def heartbeat(pk: int) -> contextlib.AbstractContextManager[None]:
    """Keep `heartbeat_at` fresh while a long step runs, so the reconcile can tell a live install from an orphan."""
    return beating(
        lambda: Installation.objects.filter(pk=pk).update(heartbeat_at=timezone.now()),
        every=HEARTBEAT_SECONDS,
        name=f"app-{pk}-heartbeat",
    )
