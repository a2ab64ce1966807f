"""Start-up imports: the web server loads no engine client, image library or QR code maker until one is used, and no
PostgreSQL driver on SQLite (DRF would import it whenever it is installed); the worker loads no web server."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAZY = ("docker", "PIL", "qrcode", "psycopg")


def _loaded(start: str, modules: tuple[str, ...], data: Path) -> str:
    """Which of `modules` a fresh process has imported once `start` ran, on production settings and SQLite."""
    code = f"import sys; {start}; print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings", "CASAOS_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)  # the embedded default, SQLite
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_web_server_starts_without_the_libraries_it_uses_on_demand(tmp_path):
    # As `manage.py serve` loads the application: settings, every app, the URL and websocket routes.
    start = "import django; django.setup(); import casaos_site.asgi; from django.urls import get_resolver;"
    assert _loaded(start + "get_resolver().url_patterns", LAZY, tmp_path) == ""


def test_the_worker_loads_no_web_server(tmp_path):
    # As the worker loads its tasks: every app and every tasks module. Twisted is the web server's (15 MB PSS).
    start = "from casaos_site.celery import app; app.loader.import_default_modules()"
    assert _loaded(start, ("twisted", "daphne", "psycopg"), tmp_path) == ""
