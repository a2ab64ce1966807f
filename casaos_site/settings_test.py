"""Settings for the test suite: its own data directory, Redis database and SQLite file."""

import os
from pathlib import Path

_base = Path(__file__).resolve().parent.parent
os.environ.setdefault("CASAOS_DATA_DIR", str(_base / "var" / "test"))
os.environ.setdefault("CASAOS_REDIS_URL", "redis://127.0.0.1:6379/15")
# Playwright's sync API runs an event loop in the test thread; the ORM calls made beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from .settings import *  # noqa: E402, F403
from .settings import DATA_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the live server and worker subprocesses of the e2e tests open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
