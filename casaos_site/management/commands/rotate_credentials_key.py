from django.core.management.base import BaseCommand, CommandError

from casaos_site.credentials import CredentialsKeyError, rotate_key


class Command(BaseCommand):
    """Replace the key that encrypts stored credentials (after a copy of the key file may have leaked)."""

    help = (
        "Encrypt every stored credential (TOTP keys, and later SMB, remote and backup passwords) with a new key in "
        "CASAOS_DATA_DIR/credentials.key, in one transaction, then drop the old key; the key file opens everything "
        "stored at every moment. The server may keep running. Back up the new key file with the database."
    )

    def handle(self, *args, **options):
        try:
            count = rotate_key()
        except CredentialsKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"credentials key rotated: {count} stored credential(s) re-encrypted")
