"""A process that holds an old secret key starts again: a whole-box restore (backups/services/box.py) put the backed-up
key in place, and sessions, signed links and tokens made with the old one would not survive the next start.

Each process ends itself with SIGTERM (a graceful stop: the web server finishes its requests, a Celery worker its
tasks) and its supervisor starts it again: supervisord under `make run` (autorestart), systemd on a host
(Restart=always). The web process notices by itself: the middleware below looks at the key file at most once a second.
"""

import os
import signal
import threading
import time

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .env import ConfigError
from .secrets import check_key

CHECK_SECONDS = 1.0
RETRY_AFTER = "3"


def restart_soon(delay: float = 0.5) -> None:
    """SIGTERM to this process in a moment (after the current answer or task has gone out)."""
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGTERM))
    timer.daemon = True
    timer.start()


def key_is_stale() -> bool:
    """The secret key file holds another key than the one this process signs with."""
    try:
        return check_key(_key_file().read_text()) != settings.SECRET_KEY
    except (OSError, ConfigError):
        return False


def _key_file():
    return settings.DATA_DIR / "secret_key"


class RestartOnNewKeyMiddleware:
    """While this process holds a replaced key: 503 "restarting" to every request, and a restart."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.checked_at = 0.0
        self.seen = None
        self.stale = False

    def __call__(self, request):
        if self._stale():
            restart_soon()
            response = HttpResponse(_("Restarting after the restore: try again in a few seconds."), status=503)
            response["Retry-After"] = RETRY_AFTER
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        return self.get_response(request)

    def _stale(self) -> bool:
        now = time.monotonic()
        if self.stale or now - self.checked_at < CHECK_SECONDS:
            return self.stale
        self.checked_at = now
        try:
            info = _key_file().stat()
        except OSError:
            return False
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if seen != self.seen:  # read only when the file changed: a stat a second otherwise
            self.seen = seen
            self.stale = key_is_stale()
        return self.stale
