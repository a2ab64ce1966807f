"""Health checks of every component the admin depends on; each returns "ok" or a short error text.

The texts are stored messages (casaos_site.i18n): the checks run in threads without the reader's language, so the
pages and /healthz show them translated (shown()) for whoever reads them."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

import redis
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext_lazy

import runtime
from casaos_site.i18n import deferred, shown

OK = "ok"
PROBE_WAIT_MS = 500  # how long the database probe waits for a writer that holds the SQLite write lock


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:160]


def check_database() -> str:
    """A real write, rolled back: a database that reads fine but refuses writes (a read-only data directory, a full
    disk) is reported here, not at the next save. Nothing is kept, so probes of several processes never collide."""
    table = MigrationRecorder.Migration._meta.db_table
    try:
        if connection.vendor == "sqlite":  # wait for another writer briefly, not the 20 s the requests wait
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {PROBE_WAIT_MS}")
        with transaction.atomic(), connection.cursor() as cursor:
            # Our own table's name (not input); a row that always exists, rewritten as it is.
            cursor.execute(f"UPDATE {table} SET id = id WHERE id = (SELECT MIN(id) FROM {table})")
            transaction.set_rollback(True)
    except OperationalError as exc:
        if "database is locked" in str(exc):
            return OK  # another connection is writing right now: the database takes writes
        return database_problem(exc) or deferred("database error: %(error)s", error=_short(exc))
    except Exception as exc:
        return deferred("database error: %(error)s", error=_short(exc))
    finally:
        if not connection.in_atomic_block:  # a caller's open transaction keeps its connection
            connection.close()
    return OK


def database_problem(exc: BaseException | None) -> str | None:
    """Words for a database that refuses writes or does not answer (what /healthz and error answers say), else None."""
    if not isinstance(exc, OperationalError):
        return None
    text = _short(exc)
    if "readonly" not in text.lower() and "read-only" not in text.lower():
        return deferred("database unavailable: %(error)s", error=text)
    if connection.vendor == "sqlite":
        return deferred(
            "database is read-only (%(error)s): is the data directory %(path)s writable?",
            error=text,
            path=settings.DATA_DIR,
        )
    return deferred("database is read-only (%(error)s)", error=text)


def check_redis() -> str:
    timeout = settings.HEALTH_TIMEOUT
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
    except Exception as exc:
        return deferred("redis unreachable at %(url)s: %(error)s", url=settings.REDIS_URL, error=_short(exc))
    return OK


def redis_persistent() -> bool:
    """Whether Redis keeps its data across a restart (AOF); a Redis that hides CONFIG is given the benefit."""
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        return client.config_get("appendonly").get("appendonly", "yes") in (b"yes", "yes")
    except redis.ResponseError:
        return True


def engine_version() -> dict | None:
    """Version facts of the container engine, or None when it does not answer."""
    try:
        return runtime.get_engine(settings.ENGINE_URL).version().__dict__
    except Exception:
        return None


NO_SERVICE_NAMES = deferred(
    "containers cannot find each other by service name, so apps with a database fail: Podman needs the dnsname "
    "plugin (apt-get install golang-github-containernetworking-plugin-dnsname)"
)
_names_checked: dict[str, tuple[float, bool]] = {}  # engine URL -> (when, resolves): a probe creates a network
NAMES_RECHECK_SECONDS = 300


def check_engine() -> str:
    try:
        engine = runtime.get_engine(settings.ENGINE_URL)
        engine.version()
        resolves = _service_names_resolve(engine)
    except Exception as exc:
        return deferred("engine unreachable at %(url)s: %(error)s", url=settings.ENGINE_URL, error=_short(exc))
    return OK if resolves else NO_SERVICE_NAMES


def _service_names_resolve(engine) -> bool:
    when, resolves = _names_checked.get(settings.ENGINE_URL, (0.0, False))
    if time.monotonic() - when > NAMES_RECHECK_SECONDS:
        resolves = engine.service_names_resolve()
        _names_checked[settings.ENGINE_URL] = (time.monotonic(), resolves)
    return resolves


def check_worker() -> str:
    """Some worker answers a broadcast ping. Its main process answers, not a pool slot: a worker whose every slot
    runs a long install is busy, not dead (a queued ping task would wait behind those installs and time out)."""
    from casaos_site.celery import app

    # Without Redis there is no broker: say so at once instead of letting Celery retry its connection.
    if check_redis() != OK:
        return deferred("no worker answered: the broker (redis) is unreachable")
    try:
        replies = app.control.ping(timeout=settings.HEALTH_TIMEOUT, limit=1)
    except Exception as exc:
        return deferred("no worker answered: %(error)s", error=_short(exc))
    return OK if replies else deferred("no worker answered within %(seconds)s s", seconds=settings.HEALTH_TIMEOUT)


CHECK_LABELS = {
    "database": gettext_lazy("Database"),
    "redis": gettext_lazy("Redis"),
    "engine": gettext_lazy("Container engine"),
    "worker": gettext_lazy("Background worker"),
}
CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "engine": check_engine,
    "worker": check_worker,
}


def run_checks() -> dict:
    """Run every check at once (so a slow one costs its own timeout, not the sum) and summarise."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS))
    futures = {name: pool.submit(check) for name, check in CHECKS.items()}
    checks = {}
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=settings.HEALTH_TIMEOUT * 2)
        except FuturesTimeout:
            checks[name] = deferred("%(name)s check timed out", name=name)
    # A hung check must not hold the response; its thread ends on its own socket timeout.
    pool.shutdown(wait=False, cancel_futures=True)
    status = "ok" if all(value == OK for value in checks.values()) else "degraded"
    return {"status": status, "checks": checks}


def report_shown(report: dict) -> dict:
    """A run_checks() report with each check's words in the active language (the page, /healthz)."""
    return {**report, "checks": {name: shown(state) for name, state in report["checks"].items()}}


def report_rows(report: dict) -> list[dict]:
    """The status page's rows: each component named in the reader's language, with its words."""
    return [
        {"name": name, "label": CHECK_LABELS.get(name, name), "state": shown(state)}
        for name, state in report["checks"].items()
    ]
