"""`manage.py restore`: the whole box back from a restic repository onto a fresh install."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from backups.host.restic import ResticError
from backups.models import Repository
from backups.targets import credentials_check, location_check
from backups.wholebox import WholeRestoreError, box_restore


class Command(BaseCommand):
    help = "Restore users, settings, stores and apps with their data from a backup (then restart the services)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--location",
            required=True,
            help="the repository: a folder, host:/path, a URL, or remote:path of rclone's own configuration (rclone)",
        )
        parser.add_argument("--kind", default="local", choices=[k for k, _ in Repository.Kind.choices])
        parser.add_argument("--password-file", required=True, help="a file holding the repository password")
        parser.add_argument("--username", default="")
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--secret-file", default="", help="S3 secret key, REST password or SFTP private key")
        parser.add_argument("--snapshot", default="", help="a system snapshot id (default: the newest)")

    def handle(self, *args, **opts):
        repo = self._repository(opts)
        try:
            apps = box_restore(repo=repo, snapshot_id=opts["snapshot"], say=self.stdout.write)
        except (WholeRestoreError, ResticError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored the system and {len(apps)} app(s): {', '.join(apps) or '-'}"))
        self.stdout.write("Restart the services now (make run, or the systemd units): they hold the old keys.")

    def _repository(self, opts) -> Repository:
        """A repository row that is never saved before the restore (the fresh database is about to be replaced)."""
        password = Path(opts["password_file"]).read_text().strip()
        secret = Path(opts["secret_file"]).read_text() if opts["secret_file"] else None
        try:
            location = location_check(kind=opts["kind"], location=opts["location"], username=opts["username"])
            credentials_check(kind=opts["kind"], username=opts["username"], secret=secret or "")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        return Repository(
            kind=opts["kind"],
            location=location,
            username=opts["username"],
            port=opts["port"],
            password=password,
            secret=secret,
        )
