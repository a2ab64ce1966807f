"""The box back after an unclean shutdown: a marker in the data directory is there while we run.

The worker writes the kernel's boot id into it when it starts and removes it when it stops cleanly (a reboot or a
shutdown stops it first). Found at start with another boot's id, it means the box went down under us: a power
cut or a crash. The same boot's id means only our process was restarted, which is not news to anyone.
"""

import logging
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


def boot_start(*, marker: Path | None = None, current: str | None = None) -> bool:
    """At the worker's start: write the marker; True (and a notification) when the last boot ended uncleanly."""
    from .services import notify

    marker = marker or settings.NOTIFY_RUNNING_MARKER
    current = boot_id() if current is None else current
    previous = marker.read_text().strip() if marker.exists() else None
    marker.write_text(current + "\n")
    if previous is None or previous == current:
        return False
    log.warning("the last boot (%s) ended without stopping CasaOS cleanly", previous or "unknown")
    notify(kind="system.unclean_shutdown", link="/notifications/")
    return True


def boot_stop(*, marker: Path | None = None) -> None:
    """At a clean stop: the marker goes."""
    (marker or settings.NOTIFY_RUNNING_MARKER).unlink(missing_ok=True)
