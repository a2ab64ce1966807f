"""The structured log: its JSON-lines format, rotation, masking of secrets, and the Logs page and API that read it."""

import json
import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.test import Client

from system.logs import JsonFormatter, LogQuery, ProcessFileHandler, log_read, process_role
from tests.factories import PASSWORD
from tests.system.conftest import client_for


@pytest.fixture
def log_dir(tmp_path, settings):
    settings.LOG_DIR = tmp_path / "logs"
    return settings.LOG_DIR


@pytest.fixture
def json_log(log_dir):
    """The settings' handler, on the test's own folder, on the root logger for the test's duration (every level)."""

    def attach(max_bytes=5 * 1024**2, backups=3):
        handler = ProcessFileHandler(str(log_dir), maxBytes=max_bytes, backupCount=backups)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        handlers.append(handler)
        return handler

    root, handlers, level = logging.getLogger(), [], logging.getLogger().level
    root.setLevel(logging.DEBUG)
    yield attach
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def lines(log_dir):
    return [json.loads(line) for path in sorted(log_dir.glob("*.jsonl*")) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------------- format
def test_each_record_is_one_json_line_with_its_process(log_dir, json_log):
    json_log()
    log = logging.getLogger("casaos.test")
    log.warning("disk %s is %d%% full", "sda", 93)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it failed")
    first, second = lines(log_dir)
    assert first["level"] == "WARNING" and first["message"] == "disk sda is 93% full"
    assert first["logger"] == "casaos.test" and first["process"] == process_role() and first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "RuntimeError: boom" in second["exc"]


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (["manage.py", "serve"], "web"),
        ([".venv/bin/celery", "-A", "casaos_site", "worker", "--loglevel=INFO"], "worker"),
        (["celery", "-A", "casaos_site", "beat"], "beat"),
        (["manage.py", "monitor"], "monitor"),
        (["manage.py", "app_events"], "events"),
        (["manage.py", "migrate"], "manage"),
    ],
)
def test_the_process_is_named_from_its_command_line(argv, role, monkeypatch):
    monkeypatch.delenv("CASAOS_PROCESS", raising=False)
    assert process_role(argv) == role


def test_the_workers_companion_threads_log_as_the_process_they_stand_for(log_dir, json_log):
    json_log()
    thread = threading.Thread(target=lambda: logging.getLogger("storage").info("sampled"), name="system-monitor")
    thread.start()
    thread.join()
    assert lines(log_dir)[-1]["process"] == "monitor"


# ---------------------------------------------------------------------------- rotation
def test_it_rotates_by_size_and_keeps_a_bounded_number_of_files(log_dir, json_log):
    json_log(max_bytes=4000, backups=2)
    log = logging.getLogger("casaos.rotation")
    for number in range(400):
        log.info("line %04d %s", number, "x" * 40)
    files = sorted(p.name for p in log_dir.iterdir())
    role = process_role()
    assert files == [f"{role}.jsonl", f"{role}.jsonl.1", f"{role}.jsonl.2"]
    assert all((log_dir / name).stat().st_size <= 4000 for name in files)
    newest = log_read(log_dir, LogQuery(limit=500))
    assert newest[0]["message"].startswith("line 0399")
    numbers = [int(e["message"][5:9]) for e in newest]
    assert numbers == list(range(399, 399 - len(numbers), -1))  # none lost or doubled at the rotations
    assert len(numbers) > 2 * 4000 // 250  # more than two files hold: the three were all read


# ---------------------------------------------------------------------------- reading and filters
def write_entries(log_dir, process, entries):
    log_dir.mkdir(exist_ok=True)
    with (log_dir / f"{process}.jsonl").open("a") as handle:
        for ts, level, message in entries:
            record = {"ts": ts, "level": level, "process": process, "logger": "x", "message": message}
            handle.write(json.dumps(record) + "\n")


@pytest.fixture
def two_processes(log_dir):
    write_entries(log_dir, "web", [("2026-01-01T10:00:00", "INFO", "GET /"), ("2026-01-01T10:00:03", "ERROR", "Boom")])
    write_entries(
        log_dir, "worker", [("2026-01-01T10:00:01", "WARNING", "Disk full"), ("2026-01-01T10:00:02", "INFO", "ok")]
    )
    with (log_dir / "worker.jsonl").open("a") as handle:
        handle.write("not json\n")  # a torn line is skipped, not fatal
    return log_dir


def test_lines_of_every_process_merge_newest_first(two_processes):
    assert [e["message"] for e in log_read(two_processes, LogQuery())] == ["Boom", "ok", "Disk full", "GET /"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        (LogQuery(level="WARNING"), ["Boom", "Disk full"]),
        (LogQuery(level="ERROR"), ["Boom"]),
        (LogQuery(text="disk"), ["Disk full"]),
        (LogQuery(process="web"), ["Boom", "GET /"]),
        (LogQuery(after="2026-01-01T10:00:01"), ["Boom", "ok"]),
        (LogQuery(limit=1), ["Boom"]),
    ],
)
def test_the_filters(two_processes, query, found):
    assert [e["message"] for e in log_read(two_processes, query)] == found


def test_the_api_filters_for_admins_only(admin_user, member_user, two_processes):
    body = client_for(admin_user).get("/api/system/logs/", {"level": "WARNING", "process": "worker"}).json()
    assert [e["message"] for e in body["results"]] == ["Disk full"]
    assert client_for(admin_user).get("/api/system/logs/", {"level": "LOUD"}).status_code == 400
    assert client_for(member_user).get("/api/system/logs/").status_code == 403
    assert Client().get("/api/system/logs/").status_code in (401, 403)


def test_the_api_tails_with_after(admin_user, two_processes):
    body = client_for(admin_user).get("/api/system/logs/", {"after": "2026-01-01T10:00:02"}).json()
    assert [e["message"] for e in body["results"]] == ["Boom"]


def test_the_page_filters_and_tails_live(admin_user, member_user, two_processes):
    client = client_for(admin_user)
    page = client.get("/settings/logs/").content.decode()
    assert "Boom" in page and "GET /" in page and 'hx-trigger="every 3s"' not in page
    lines_ = client.get("/settings/logs/lines/", {"q": "disk", "live": "on"}).content.decode()
    assert "Disk full" in lines_ and "Boom" not in lines_
    assert 'hx-trigger="every 3s"' in lines_ and "q=disk" in lines_  # the tail keeps the filters
    assert client_for(member_user).get("/settings/logs/").status_code == 403
    assert client_for(member_user).get("/settings/logs/lines/").status_code == 403


def test_log_lines_are_escaped_on_the_page(admin_user, log_dir):
    write_entries(log_dir, "web", [("2026-01-01T10:00:00", "ERROR", "<script>alert(1)</script>")])
    page = client_for(admin_user).get("/settings/logs/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


# ---------------------------------------------------------------------------- secrets
def test_secrets_are_masked_whoever_logs_them(log_dir, json_log):
    json_log()
    token = "casa_" + "A1b2C3d4" * 5
    logging.getLogger("careless").info("Authorization: Bearer %s password=hunter22 otp: 123456", token)
    logging.getLogger("careless").info("a bad API token from 10.0.0.1, exit code 137")
    logging.getLogger("careless").info("casaos: first run: open the web admin and enter this setup token: s3tup-xyz")
    text = "".join(p.read_text() for p in log_dir.iterdir())
    assert token not in text and "hunter22" not in text and "123456" not in text and "s3tup-xyz" not in text
    assert "********" in text
    assert "a bad API token from 10.0.0.1, exit code 137" in text  # words around secrets are not secrets


@pytest.mark.django_db
def test_logins_and_tokens_never_reach_the_log(admin_user, log_dir, json_log):
    """A real login (good and bad password), API calls with a good and a bad token, a password change: every
    logger at every level writes to the structured log, and no secret is in it."""
    from accounts.services.tokens import api_token_create

    json_log()
    client = Client()
    client.post("/login/", {"username": "admin", "password": "wrong-passphrase-123"})
    client.post("/login/", {"username": "admin", "password": PASSWORD})
    _row, token = api_token_create(user=admin_user, name="script", scope="full")
    assert Client().get("/api/system/settings/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    bad = token[:-4] + "AAAA"
    assert Client().get("/api/system/settings/", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
    text = "".join(p.read_text() for p in log_dir.iterdir())
    assert "login" in text  # the log did hear these requests (the audit lines)
    for secret in (PASSWORD, "wrong-passphrase-123", token, token[5:], bad):
        assert secret not in text


# ---------------------------------------------------------------------------- the worker
def test_the_celery_worker_writes_the_structured_log(tmp_path):
    """Celery replaces the root logger's handlers unless told not to: the worker's lines must reach its file."""
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "CASAOS_DATA_DIR": str(tmp_path / "data"),
        "CASAOS_REDIS_URL": os.environ["CASAOS_TEST_SPARE_REDIS_URL"],  # never the broker of the tests' own tasks
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CASAOS_WORKER_BACKGROUND": "0",
        "CASAOS_APPSTORE_SYNC_AT_START": "0",
    }
    worker = subprocess.Popen(
        [str(root / ".venv" / "bin" / "celery"), "-A", "casaos_site", "worker", "--loglevel=INFO"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = tmp_path / "data" / "logs" / "worker.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (log.exists() and "ready." in log.read_text()):
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["logger"] == "celery.apps.worker" and "ready." in e["message"] for e in entries)
    assert {e["process"] for e in entries} == {"worker"}
