"""Reads for Settings → System: the values in force, what is pending, the hardware, the log."""

from __future__ import annotations

import asyncio
import time

from django.conf import settings

from .host import Host
from .logs import LogQuery, log_read
from .models import SystemSettings

_CACHE_SECONDS = 10.0
_cached: dict[str, tuple[float, SystemSettings]] = {}


def host() -> Host:
    """The host as configured (the real one; a fake root and a recorder in tests)."""
    return Host(root=settings.SYSTEM_HOST_ROOT, wrapper=tuple(settings.SYSTEM_HOST_WRAPPER))


def system_settings(*, fresh: bool = False) -> SystemSettings:
    """The settings row, kept 10 s per process: every request's language falls back on it."""
    stamp, row = _cached.get("row", (0.0, None))
    if fresh or row is None or time.monotonic() - stamp > _CACHE_SECONDS:
        row = _row()
        _cached["row"] = (time.monotonic(), row)
    return row


def _row() -> SystemSettings:
    """The settings row as saved, or the defaults: a read never writes (a read-only database still serves pages)."""
    return SystemSettings.objects.filter(pk=1).first() or SystemSettings(pk=1)


def system_settings_forget() -> None:
    _cached.clear()


def apps_time_zone() -> str:
    """The TZ apps are given: the admin's choice, else CASAOS_TZ."""
    return system_settings().time_zone or settings.TIME_ZONE


def default_language() -> str:
    """The site's language for people who chose none ("" = follow the browser). Inside an event loop (a websocket's
    dispatch) the database is out of reach: the value this process last read."""
    if _in_event_loop():
        _stamp, row = _cached.get("row", (0.0, None))
        return row.language if row else ""
    return system_settings().language


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def web_bind() -> str:
    """Where the web server listens from its next start: the admin's choice, else CASAOS_BIND."""
    return _row().web_bind or settings.BIND


def system_settings_view() -> dict:
    """Everything Settings → System and its API show."""
    from storage.models import StorageSettings

    row = system_settings(fresh=True)
    running = row.web_bind_running or settings.BIND
    return {
        "hostname": host().hostname(),
        "time_zone": row.time_zone or settings.TIME_ZONE,
        "host_time_zone": host().time_zone(),
        "language": row.language,
        "web_bind": row.web_bind or running,
        "web_bind_running": running,
        "web_bind_pending": bool(row.web_bind) and row.web_bind != running,
        "automount": StorageSettings.load().automount,
        "version": settings.CASAOS_VERSION,
    }


def system_hardware() -> dict:
    return host().hardware()


def system_logs(*, level: str = "", text: str = "", process: str = "", after: str = "", limit: int = 200) -> list:
    """The structured log's newest matching lines, newest first."""
    query = LogQuery(level=level, text=text, process=process, after=after, limit=limit)
    return log_read(settings.LOG_DIR, query)
