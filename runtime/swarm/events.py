"""Container-like events of Swarm services, made from their task states.

Docker sends no event when a task changes state, and container events come only from the node we talk to; the
task list of the manager is the one cluster-wide truth. So the stream polls the services with the wanted labels
and their tasks about once a second and reports each change as the event a container would have sent: create,
start, die (with the exit code), destroy. The first poll only learns what exists (like `docker events` without
`since`), so a listener that reconnects catches up by reading the states, not old events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.base import EngineEvent

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Seen:
    """What one poll saw of a service: its state, the running task (a new one is a new start), labels."""

    state: str
    task: str
    exit_code: int | None
    name: str
    image: str
    labels: dict[str, str]


Poll = Callable[[], Mapping[str, Seen]]  # service id -> what it looks like now


def changes(before: Mapping[str, Seen], now: Mapping[str, Seen]) -> Iterator[tuple[str, str, Seen]]:
    """(service id, action, seen) for every transition between two polls, in the order a container sends them."""
    for sid, seen in now.items():
        old = before.get(sid)
        if old is None:
            yield sid, "create", seen
        # A running task that ended, or was replaced by a new one while we looked away (a stop and a start within
        # one poll): its container died, as `docker restart` says die before start.
        if old is not None and old.state == "running" and (seen.state != "running" or seen.task != old.task):
            yield sid, "die", seen
        if _started(old, seen):
            yield sid, "start", seen
    for sid, old in before.items():
        if sid not in now:
            if old.state == "running":
                yield sid, "die", old
            yield sid, "destroy", old


def _started(old: Seen | None, seen: Seen) -> bool:
    """A running task that was not running (or not this task) at the last poll."""
    if seen.state != "running":
        return False
    return old is None or old.state != "running" or old.task != seen.task


class SwarmEvents:
    """An EventStream of synthesized events; close() from any thread ends it within a poll."""

    def __init__(self, poll: Poll, *, until: datetime | None = None, every: float = POLL_SECONDS) -> None:
        self._poll = poll
        self._until = until
        self._every = every
        self._closed = threading.Event()
        self._pending: list[EngineEvent] = []
        self._seen: Mapping[str, Seen] = poll()

    def __iter__(self) -> SwarmEvents:
        return self

    def __next__(self) -> EngineEvent:
        while not self._pending:
            if self._closed.is_set() or (self._until is not None and datetime.now(UTC) >= self._until):
                raise StopIteration
            self._closed.wait(self._every)
            if not self._closed.is_set():
                self._step()
        return self._pending.pop(0)

    def _step(self) -> None:
        now = self._poll()
        at = datetime.now(UTC)
        self._pending += [_event(sid, action, seen, at) for sid, action, seen in changes(self._seen, now)]
        self._seen = now

    def close(self) -> None:
        """Stop listening."""
        self._closed.set()


def _event(sid: str, action: str, seen: Seen, at: datetime) -> EngineEvent:
    code: Any = seen.exit_code if action == "die" else None
    return EngineEvent(
        container_id=sid,
        action=action,
        labels=dict(seen.labels),
        time=at,
        name=seen.name,
        image=seen.image,
        exit_code=code,
    )
