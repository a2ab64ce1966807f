from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services.mfa import mfa_remove


class Command(BaseCommand):
    """Recovery for a lost phone when no other admin can help."""

    help = "Remove every MFA device (authenticator and backup codes) of a user."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        mfa_remove(user=user, actor=None)
        self.stdout.write(f"MFA removed for {username}; they can log in with the password and enrol again.")
