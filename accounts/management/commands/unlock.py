from django.core.management.base import BaseCommand

from accounts.services.lockout import lockout_clear


class Command(BaseCommand):
    """Lift a lockout from the console."""

    help = "Unlock an account name (and optionally a client address) locked after failed logins."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default=None)
        parser.add_argument("--address", default=None, help="Also unlock this client IP address.")

    def handle(self, *args, username, address, **options):
        if not username and not address:
            self.stderr.write("give a username and/or --address")
            return
        cleared = lockout_clear(username=username, address=address)
        self.stdout.write(f"unlocked ({cleared} counter(s) cleared)")
