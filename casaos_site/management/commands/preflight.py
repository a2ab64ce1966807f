from django.core.management.base import BaseCommand

from casaos_site.health import check_database, check_engine, check_redis, redis_persistent
from casaos_site.i18n import shown


class Command(BaseCommand):
    """Say in one line each what is broken before the services start; never fail the start."""

    help = "Check the database, Redis and the container engine and report problems in plain words."

    def handle(self, *args, **options):
        problems = {
            "database": check_database(),
            "redis": check_redis(),
            "engine": check_engine(),
        }
        for name, state in problems.items():
            if state != "ok":
                # The UI still starts: its status page names the broken part too.
                self.stderr.write(f"casaos: warning: {name}: {shown(state)}")
        if problems["redis"] == "ok" and not redis_persistent():
            self.stderr.write(
                "casaos: warning: redis: the append-only file is off, so a restart of Redis loses queued work "
                "(set `appendonly yes`; see docs/install.md)"
            )
        if problems["database"] == "ok":
            self._accounts()

    def _accounts(self) -> None:
        from accounts.services.setup import setup_token_announce
        from casaos_site.credentials import credentials_check

        if problem := credentials_check():
            self.stderr.write(f"casaos: warning: credentials: {problem}")
        # First run: while no admin exists, the console shows the one-time setup token (accounts issue).
        setup_token_announce(self.stdout.write)
