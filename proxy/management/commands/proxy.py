"""`manage.py proxy`: run Caddy in the foreground (the Procfile's `proxy` process) and load its configuration from
the database as soon as its admin API answers. Caddy's own exit ends the command, so supervisord or systemd
restarts both."""

import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from proxy.host.caddy import CaddyError, caddy_start, caddy_stop
from proxy.services import proxy_push


class Command(BaseCommand):
    help = "Run Caddy (the reverse proxy) and load its configuration from the database."

    def handle(self, *args, **options):
        if not settings.PROXY:
            raise CommandError("the proxy is off: set CASAOS_PROXY=1 (docs/proxy.md)")
        try:
            proc = caddy_start(socket_path=settings.PROXY_ADMIN_SOCKET, storage=settings.PROXY_DIR, log=sys.stdout)
        except CaddyError as exc:
            raise CommandError(str(exc)) from exc
        signal.signal(signal.SIGTERM, lambda *_: caddy_stop(proc))
        try:
            proxy_push()
            self.stdout.write(f"caddy is serving; admin API on {settings.PROXY_ADMIN_SOCKET}")
        except CaddyError as exc:
            # Caddy runs on with nothing served; the Settings page shows the error and the next change pushes again.
            self.stderr.write(f"caddy refused the configuration: {exc}")
        try:
            sys.exit(proc.wait())
        finally:
            caddy_stop(proc)
