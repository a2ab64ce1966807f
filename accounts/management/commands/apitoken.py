from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import APIToken, User
from accounts.services.tokens import api_token_create


class Command(BaseCommand):
    """Print a new API token for scripted set-ups (the console is trusted: it can already read the database)."""

    help = "Create an API token for a user and print it (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=[s.value for s in APIToken.Scope], default=APIToken.Scope.READ)
        parser.add_argument("--name", default="console")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Expire after this many days (default: never)."
        )

    def handle(self, *args, username, scope, name, expires_days, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        _row, raw = api_token_create(user=user, name=name, scope=scope, expires_at=expires)
        self.stdout.write(raw)
