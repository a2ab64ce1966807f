"""Configuration: secrets fail closed, bad configuration is one clear line."""

import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from casaos_site.env import ConfigError, env_bool, env_int, env_list
from casaos_site.secrets import check_key, load_or_create_key

ROOT = Path(__file__).resolve().parents[2]


def test_it_creates_a_private_key_once(tmp_path):
    key_file = tmp_path / "secret_key"
    first = load_or_create_key(key_file)
    assert len(first) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_or_create_key(key_file) == first


@pytest.mark.parametrize("key", ["", "   ", "django-insecure-" + "x" * 50, "changeme" * 6, "short"])
def test_it_refuses_empty_or_known_keys(key):
    with pytest.raises(ConfigError):
        check_key(key)


def test_it_refuses_an_empty_key_file(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError):
        load_or_create_key(tmp_path / "secret_key")


def test_typed_helpers_reject_garbage(monkeypatch):
    monkeypatch.setenv("CASAOS_X_BOOL", "maybe")
    monkeypatch.setenv("CASAOS_X_INT", "ten")
    monkeypatch.setenv("CASAOS_X_LIST", "a, b,,c")
    with pytest.raises(ConfigError, match="CASAOS_X_BOOL"):
        env_bool("X_BOOL")
    with pytest.raises(ConfigError, match="CASAOS_X_INT"):
        env_int("X_INT", 1)
    assert env_list("X_LIST") == ["a", "b", "c"]


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CASAOS_")}
    full_env.update(DJANGO_SETTINGS_MODULE="casaos_site.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_an_unwritable_data_dir_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _manage("check", CASAOS_DATA_DIR=str(blocker / "data"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert "data directory" in result.stderr and "CASAOS_DATA_DIR" in result.stderr


def test_a_known_secret_key_refuses_to_start(tmp_path):
    (tmp_path / "secret_key").write_text("django-insecure-" + "a" * 50)
    result = _manage("check", CASAOS_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "secret key" in result.stderr


def test_preflight_names_what_is_down_in_one_line_each(tmp_path):
    result = _manage(
        "preflight",
        CASAOS_DATA_DIR=str(tmp_path),
        CASAOS_REDIS_URL="redis://127.0.0.1:1/0",
        CASAOS_ENGINE_URL=f"unix://{tmp_path}/none.sock",
    )
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("casaos: warning: redis:") for line in lines)
    assert any(line.startswith("casaos: warning: engine:") for line in lines)
    assert "Traceback" not in result.stderr


def test_production_settings_hash_passwords_with_argon2():
    from casaos_site import settings as production  # the suite's own settings use a cheaper Argon2

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def _all_at_once(fn, count: int = 48) -> list:
    """Run fn in many threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        try:
            return fn()
        except BaseException as exc:  # SystemExit from a failed start-up check included
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def test_processes_starting_together_never_fail_the_data_directory_check(tmp_path):
    from casaos_site.settings import _prepare_data_dir

    for _ in range(5):
        results = _all_at_once(lambda: _prepare_data_dir(tmp_path))
        assert all(r == tmp_path for r in results), [r for r in results if r != tmp_path][:3]
    assert not list(tmp_path.glob(".write-test*"))


def test_processes_starting_together_share_one_complete_key(tmp_path):
    for round_ in range(5):
        key_file = tmp_path / f"secret_key_{round_}"
        keys = _all_at_once(lambda key_file=key_file: load_or_create_key(key_file))
        assert all(isinstance(k, str) for k in keys), [k for k in keys if not isinstance(k, str)][:3]
        assert set(keys) == {key_file.read_text()}
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"secret_key_{n}" for n in range(5)]


def test_the_data_directory_and_database_are_private(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "CASAOS_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "casaos_site.settings"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("casaos.sqlite3", "casaos.sqlite3-wal", "secret_key"):
        if (data / name).exists() or name != "casaos.sqlite3-wal":
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    data.chmod(0o755)  # an install from before: tightened at the next start
    (data / "casaos.sqlite3").chmod(0o644)
    subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, check=True, timeout=120)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "casaos.sqlite3").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["CASAOS_WORKERS", "CASAOS_LONG_WORKERS"])
def test_each_queue_needs_a_worker_slot(tmp_path, name):
    result = _manage("check", CASAOS_DATA_DIR=str(tmp_path), **{name: "0"})
    assert result.returncode == 2
    assert "CASAOS_WORKERS and CASAOS_LONG_WORKERS must be at least 1" in result.stderr
