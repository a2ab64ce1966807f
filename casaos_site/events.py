"""The one publish helper: every live update (progress, stats, status) goes through here to a Channels group."""

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# Consumers implement one handler per message type; this is the only one the helper sends.
MESSAGE_TYPE = "casaos.event"
# In-process listeners by event name (the notification centre hears storage.space.low here): the events a
# part already publishes are what other parts react to, without that part knowing them.
_listeners: dict[str, list[Callable[[str, dict], None]]] = {}


def listen(event: str, handler: Callable[[str, dict], None]) -> None:
    """Call handler(event, data) in this process whenever publish() sends `event` (once per handler)."""
    handlers = _listeners.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def _tell_listeners(event: str, data: dict[str, Any]) -> None:
    for handler in _listeners.get(event, ()):
        try:
            handler(event, data)
        except Exception:  # a listener's failure must never break the publisher's own work
            log.exception("listener %s of %s failed", getattr(handler, "__name__", handler), event)


def message(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """Build the channel-layer message for an event (also what consumers receive)."""
    return {"type": MESSAGE_TYPE, "event": event, "data": data}


def publish(group: str, event: str, data: dict[str, Any]) -> bool:
    """Send an event to a group (and to this process's listeners); a Redis outage is logged, never raised."""
    _tell_listeners(event, data)
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, message(event, data))
    except Exception as exc:  # the layer raises redis, OS and timeout errors alike
        log.warning("could not publish %s to %s: %s", event, group, exc)
        return False
    return True


async def apublish(group: str, event: str, data: dict[str, Any]) -> bool:
    """Async twin of publish() for code already running in an event loop."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(group, message(event, data))
    except Exception as exc:
        log.warning("could not publish %s to %s: %s", event, group, exc)
        return False
    return True


def publish_on_commit(group: str, event: str, data: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, so pages never see state the database does not hold."""
    transaction.on_commit(lambda: publish(group, event, data))
