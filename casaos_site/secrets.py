"""The per-install SECRET_KEY: generated at first start, kept 0600 in the data directory, never a default; and the
file helpers our other key files use (casaos_site/credentials.py)."""

import os
import secrets
import tempfile
from pathlib import Path

from .env import ConfigError

# Keys that appear in tutorials or in Django's own project template; a key starting with these is refused.
KNOWN_BAD_PREFIXES = ("django-insecure", "changeme", "change-me", "secret", "insecure")
MIN_LENGTH = 40


def check_key(key: str) -> str:
    """Refuse an empty, short or well-known key: a guessable key signs forged sessions (SECURITY.md lesson 2)."""
    stripped = key.strip()
    if not stripped:
        raise ConfigError("the secret key is empty")
    if len(stripped) < MIN_LENGTH or stripped.lower().startswith(KNOWN_BAD_PREFIXES):
        raise ConfigError("the secret key is too short or a well-known default; remove it to have a new one made")
    return stripped


def create_once(path: Path, content: str) -> bool:
    """Create a 0600 file with this content unless it exists; False when another process made it first."""
    # Written whole under a name of its own, then linked into place: link() fails if another process starting at
    # the same moment got there first, and a reader never sees a half-written (empty) file.
    tmp = _written_aside(path, content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    _sync_dir(path.parent)
    return True


def replace_file(path: Path, content: str) -> None:
    """Replace a 0600 file at once: readers see the old content or the new one, never a mix."""
    tmp = _written_aside(path, content)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(path.parent)


def _written_aside(path: Path, content: str) -> Path:
    """A new 0600 file beside `path`, holding `content` on disk (fsynced), under a temporary name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _sync_dir(path: Path) -> None:
    """Make a rename or link in this directory durable: after a power cut the file is the new one, or absent."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private(path: Path) -> None:
    """Give a key file of ours back its 0600 if someone widened it."""
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def load_or_create_key(path: Path) -> str:
    """Read the key file, creating it with mode 0600 on first start."""
    if path.exists():
        make_private(path)
        return check_key(path.read_text())
    key = secrets.token_urlsafe(50)
    return key if create_once(path, key) else check_key(path.read_text())
