"""The system as one folder to back up: a consistent copy of the database, the keys, and a manifest.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent state while the web and the worker
keep writing. PostgreSQL: `pg_dump` (custom format). The secret key and the credentials key travel with the database:
without the credentials key, the stored secrets (TOTP keys, repository passwords) could not be read after a restore.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection

from .staging import manifest_write, stage

SQLITE_NAME = "casaos.sqlite3"
PG_NAME = "casaos.pgdump"
KEY_FILES = ("secret_key", "credentials.key")


def system_stage() -> list[str]:
    """Write the system's stage and return the paths to back up: the stage and the stores' folder."""
    folder = stage("system")
    for old in folder.iterdir():
        old.unlink() if old.is_file() else shutil.rmtree(old)
    engine = _database_dump(folder)
    for name in KEY_FILES:
        source = Path(settings.DATA_DIR) / name
        if source.exists():
            shutil.copy2(source, folder / name)
    manifest_write(folder, {"kind": "system", "database": engine, "version": settings.CASAOS_VERSION})
    paths = [str(folder)]
    if Path(settings.APPSTORE_DIR).is_dir():
        paths.append(str(settings.APPSTORE_DIR))
    return paths


def _database_dump(folder: Path) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        sqlite_copy(Path(db["NAME"]), folder / SQLITE_NAME)
        return "sqlite"
    if "postgresql" in db["ENGINE"]:
        run_pg(["pg_dump", "--format=custom", "--no-owner", f"--file={folder / PG_NAME}"])
        return "postgresql"
    raise RuntimeError(f"cannot back up a {db['ENGINE']} database")


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (readers and writers go on meanwhile)."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    target.chmod(0o600)


def run_pg(argv: list[str]) -> None:
    """pg_dump / pg_restore against our database; the password in the child's environment only."""
    params = connection.get_connection_params()
    env = {**os.environ, "PGPASSWORD": str(params.get("password") or "")}
    argv = [*argv, f"--host={params.get('host') or 'localhost'}", f"--port={params.get('port') or 5432}"]
    argv += [f"--username={params.get('user') or ''}", f"--dbname={params.get('dbname') or params.get('database')}"]
    _run(argv, env)


def _run(argv: list[str], env: dict) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()[-500:]}")
