"""Web Push and Apprise cost memory a Pi should not hold idle: the web server and the worker load them only to send."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAZY = ("pywebpush", "aiohttp", "apprise", "py_vapid")


def test_neither_process_imports_the_senders_at_start(tmp_path):
    code = (
        "import sys, django; django.setup(); import casaos_site.asgi; from django.urls import get_resolver;"
        "get_resolver().url_patterns; from casaos_site.celery import app; app.loader.import_default_modules();"
        "print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings", "CASAOS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code, *LAZY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
