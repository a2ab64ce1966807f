"""Stored credentials, encrypted with a key kept outside the database: a copy of the database alone reveals none.

`EncryptedTextField` is the column type for every secret we must be able to read back: TOTP keys now, and SMB
passwords, rclone remotes and restic passwords as those features come; `encrypt` and `decrypt` serve code that keeps
such a secret elsewhere. Python sees the plain text, the database a Fernet token (AES-128-CBC + HMAC-SHA256).

The key file (`CREDENTIALS_KEY_FILE`: `credentials.key` in the data directory, 0600) is made at the first encryption,
atomically (two processes starting at once agree on one key), and never while the database already holds
credentials: those need the key file that was backed up with them. It holds one key per line: the first encrypts,
every one decrypts (MultiFernet), so a rotation (`manage.py rotate_credentials_key`) never passes through a moment in
which a stored credential cannot be read. Every process re-reads the file when it changes. Secrets we only need to
recognise (backup codes) are hashed instead: `code_digest`.
"""

import hashlib
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import Cast

from .secrets import create_once, make_private, replace_file

# Backup codes carry 40 bits: a salted, memory-hard hash (16 MiB, ~50 ms) makes guessing them from a stolen
# database slow, while a login checks one code with a single hash.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
# Rounds of "re-encrypt what an old key wrote, then drop the old keys" before a rotation gives up (see rotate_key).
ROTATE_ROUNDS = 5


class CredentialsKeyError(Exception):
    """The key file is missing or broken, or cannot decrypt a stored credential (a database restored without it)."""


def _missing() -> str:
    return f"{settings.CREDENTIALS_KEY_FILE} is missing: restore the key file that was backed up with this database"


class _Keys:
    """The key file's keys, read again whenever the file changes (a rotation by another process)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = None
        self.fernet: MultiFernet | None = None

    def current(self, *, create: bool = False) -> MultiFernet:
        path = settings.CREDENTIALS_KEY_FILE
        if create and not path.exists():
            _create_key_file()
        try:
            info = path.stat()
        except FileNotFoundError:
            raise CredentialsKeyError(_missing()) from None
        seen = (str(path), info.st_ino, info.st_mtime_ns, info.st_size)
        with self.lock:
            if seen != self.seen:
                self.fernet = _fernet(read_keys())
                self.seen = seen
            return self.fernet


_keys = _Keys()


def _fernet(keys: list[bytes]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise CredentialsKeyError(f"{settings.CREDENTIALS_KEY_FILE} holds a malformed key") from None


def _create_key_file() -> None:
    """The first key; refused while credentials are stored (made with a key file that must be restored instead)."""
    if credentials_stored():
        raise CredentialsKeyError(_missing())
    create_once(settings.CREDENTIALS_KEY_FILE, Fernet.generate_key().decode() + "\n")


def read_keys() -> list[bytes]:
    """The key file's keys, the one that encrypts first."""
    path = settings.CREDENTIALS_KEY_FILE
    make_private(path)
    keys = path.read_text().split()
    if not keys:
        raise CredentialsKeyError(f"{path} holds no key")
    return [key.encode() for key in keys]


def write_keys(keys: list[bytes]) -> None:
    """Replace the key file at once (0600): every process reads the old keys or the new ones, never a mix."""
    replace_file(settings.CREDENTIALS_KEY_FILE, "".join(key.decode() + "\n" for key in keys))


def encrypt(text: str) -> str:
    """The stored form of a secret: only the key file opens it."""
    return _keys.current(create=True).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys.current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsKeyError(
            f"{settings.CREDENTIALS_KEY_FILE} cannot decrypt a stored credential: restore the key file that was "
            "backed up with this database"
        ) from None


def code_digest(code: str, salt: str) -> str:
    """The stored form of a short secret we only need to recognise (a backup code)."""
    return hashlib.scrypt(code.encode(), salt=salt.encode(), **SCRYPT).hex()


class EncryptedTextField(models.TextField):
    """Text stored encrypted with the credentials key. It cannot be searched: only `isnull` lookups exist."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

    def get_lookup(self, lookup_name):
        # A ciphertext differs at every save: any comparison would silently match nothing.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted columns, and their names (what a rotation re-encrypts)."""
    found = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def _columns():
    """Every encrypted column whose table exists (migrations run before some do)."""
    tables = set(connection.introspection.table_names())
    for model, names in encrypted_fields():
        if model._meta.db_table in tables:
            yield from ((model, name) for name in names)


def _stored(model, name: str):
    """The column's stored tokens as the database holds them (never decrypted), with their rows' ids."""
    rows = model._base_manager.filter(**{f"{name}__isnull": False})
    return rows.annotate(stored=Cast(name, models.TextField())).values_list("pk", "stored")


def credentials_stored() -> bool:
    return any(_stored(model, name).exists() for model, name in _columns())


def _opens(fernet, token: str) -> bool:
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _unreadable(fernet) -> list[tuple[type[models.Model], str, list]]:
    """The stored credentials these keys cannot open, by column: (model, column, row ids)."""
    found = []
    for model, name in _columns():
        pks = [pk for pk, token in _stored(model, name) if not _opens(fernet, token)]
        if pks:
            found.append((model, name, pks))
    return found


def credentials_check() -> str | None:
    """At start: None when the key file opens every stored credential, else what is wrong, in words."""
    if not credentials_stored():
        return None
    try:
        unreadable = _unreadable(_keys.current())
    except CredentialsKeyError as exc:
        return str(exc)
    count = sum(len(pks) for _, _, pks in unreadable)
    if count:
        return (
            f"{settings.CREDENTIALS_KEY_FILE} cannot decrypt {count} stored credential(s): restore the key file "
            "that was backed up with this database"
        )
    return None


def _reencrypt(model, name: str, pks: list | None = None) -> int:
    rows = model._base_manager.select_for_update().filter(**{f"{name}__isnull": False})
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    pairs = list(rows.values_list("pk", name))  # decrypted with any key of the file...
    for pk, value in pairs:
        model._base_manager.filter(pk=pk).update(**{name: value})  # ...and written back with its first
    return len(pairs)


def reencrypt_all() -> int:
    """Write every stored credential again with the key file's first key, in one transaction; returns how many."""
    with transaction.atomic():
        return sum(_reencrypt(model, name) for model, name in _columns())


def _reencrypt_stale(key: bytes) -> None:
    with transaction.atomic():
        for model, name, pks in _unreadable(Fernet(key)):
            _reencrypt(model, name, pks)


def rotate_key() -> int:
    """Encrypt every stored credential with a new key, then drop the old keys; returns how many were re-encrypted.

    The key file always opens everything the database holds. First it gets the new key in front of the old ones
    (every process encrypts with it from its next use on, and still reads the old); then one transaction re-encrypts
    every credential; then the old keys go. Interrupted anywhere, the file still holds every key the database needs,
    and running the command again finishes the job. A process that read the file just before the new key appeared
    may still write with an old one: such rows are re-encrypted before the old keys go, and should one land between
    that and the swap, the old keys come back and the round repeats.
    """
    old = read_keys()
    new = Fernet.generate_key()
    write_keys([new, *old])
    count = reencrypt_all()
    for _ in range(ROTATE_ROUNDS):
        _reencrypt_stale(new)
        write_keys([new])
        if not _unreadable(Fernet(new)):
            return count
        write_keys([new, *old])
    raise CredentialsKeyError(
        "credentials kept being written with an old key during the rotation; the key file holds the new key and the "
        "old ones, so everything stays readable: run the command again"
    )
