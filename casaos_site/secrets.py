"""The per-install SECRET_KEY: generated at first start, kept 0600 in the data directory, never a default."""

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


def load_or_create_key(path: Path) -> str:
    """Read the key file, creating it with mode 0600 on first start."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return check_key(path.read_text())
    key = secrets.token_urlsafe(50)
    # Written whole under a name of its own, then linked into place: link() fails if another process starting at
    # the same moment got there first, and a reader never sees a half-written (empty) key.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        os.link(tmp, path)
    except FileExistsError:
        return check_key(path.read_text())
    finally:
        Path(tmp).unlink()
    return key
