"""The one publish helper: every live update (progress, stats, status) goes through here to a Channels group."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# Consumers implement one handler per message type; this is the only one the helper sends.
MESSAGE_TYPE = "casaos.event"


def message(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """Build the channel-layer message for an event (also what consumers receive)."""
    return {"type": MESSAGE_TYPE, "event": event, "data": data}


def publish(group: str, event: str, data: dict[str, Any]) -> bool:
    """Send an event to a group; a Redis outage is logged, never raised into the caller's work."""
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
