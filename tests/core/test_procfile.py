"""The Procfile is the one list of our processes: `make run`'s supervisor and the systemd units both come from it,
and under `make run` a process that dies is restarted without taking the others down."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis as redis_lib

from storage.services import LATEST_KEY
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("procfile", ROOT / "scripts" / "procfile.py")
procfile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(procfile)
PROCESSES = procfile.processes(ROOT / "Procfile")


def test_every_procfile_process_has_a_systemd_unit(tmp_path):
    names = procfile.write_units(PROCESSES, directory=tmp_path, root=Path("/opt/casaos"), env_file="/etc/casaos.env")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"casaos-{n}.service" for n in PROCESSES)
    assert names == [f"casaos-{n}" for n in PROCESSES]
    # Two Python processes: beat, the sampler and the events listener live in the worker (issue 13); the third,
    # Caddy under `manage.py proxy`, runs only where CASAOS_PROXY=1 (issue 19).
    assert set(PROCESSES) == {"web", "worker", "proxy"}
    for name, argv in PROCESSES.items():
        text = (tmp_path / f"casaos-{name}.service").read_text()
        assert f"ExecStart=/opt/casaos/{argv[0]} " in text, text
        assert "Restart=always" in text and "EnvironmentFile=/etc/casaos.env" in text


def test_the_proxy_runs_only_where_it_is_turned_on():
    assert set(procfile.enabled(PROCESSES, {})) == {"web", "worker"}
    assert set(procfile.enabled(PROCESSES, {"CASAOS_PROXY": "0"})) == {"web", "worker"}
    assert set(procfile.enabled(PROCESSES, {"CASAOS_PROXY": "1"})) == {"web", "worker", "proxy"}


def test_the_supervisor_runs_every_procfile_process(tmp_path):
    conf = procfile.supervisord_conf(PROCESSES, root=ROOT, var=tmp_path)
    assert sorted(line[9:-1] for line in conf.splitlines() if line.startswith("[program:")) == sorted(PROCESSES)
    assert conf.count("autorestart=true") == len(PROCESSES)


@pytest.mark.parametrize("line", ["worker: celery --concurrency=${CASAOS_WORKERS:-4}", "no colon here", "a b: x"])
def test_a_procfile_line_neither_runner_understands_is_refused(tmp_path, line):
    bad = tmp_path / "Procfile"
    bad.write_text(f"web: python manage.py serve\n{line}\n")
    with pytest.raises(SystemExit, match="Procfile:2"):
        procfile.processes(bad)


def _marker(name: str) -> bytes:
    """What a process's command line holds after its program (a script's interpreter comes first)."""
    return " ".join(PROCESSES[name][1:]).encode()


def _pids(name: str, data_dir: Path) -> set[int]:
    """Processes of our stack running from this data dir: found by their environment, not a pid file."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if f"CASAOS_DATA_DIR={data_dir}".encode() in env and _marker(name) in cmd:
            found.add(int(proc.name))
    return found


def _healthz(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/healthz", timeout=20) as resp:
        return json.load(resp)


def _wait(what: str, check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} within {seconds}s")


@pytest.mark.stack
@pytest.mark.docker
def test_a_killed_process_is_restarted_and_the_others_keep_running(tmp_path, redis_client, engine):
    port = free_port()
    env = {
        **os.environ,
        "CASAOS_DATA_DIR": str(tmp_path),
        "CASAOS_REDIS_URL": "redis://127.0.0.1:6379/11",
        "CASAOS_BIND": f"127.0.0.1:{port}",
        "CASAOS_WORKERS": "1",
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    conf = subprocess.run(
        [sys.executable, "scripts/procfile.py", "supervisord"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    redis_lib.Redis.from_url(env["CASAOS_REDIS_URL"]).delete(LATEST_KEY)  # only this stack's sample counts
    log = (tmp_path / "console.log").open("wb")
    sup = subprocess.Popen(
        [str(Path(sys.executable).parent / "supervisord"), "-c", conf.stdout.decode().strip()],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait("the stack answers healthy", lambda: _healthz(url)["status"] == "ok", 90)
        before = {name: _pids(name, tmp_path) for name in procfile.enabled(PROCESSES, env)}  # no proxy here
        assert all(before.values()), before
        # The worker's threads do the work of the former processes: beat schedules, the sampler publishes.
        _wait("beat sends its first due task", lambda: b"Sending due task" in (tmp_path / "console.log").read_bytes())
        _wait("the sampler publishes", lambda: redis_lib.Redis.from_url(env["CASAOS_REDIS_URL"]).exists(LATEST_KEY))
        assert len(before["worker"]) == 1, "a threads pool and thread companions: one worker process"
        victim = min(before["worker"])  # the worker's main process (its pool children are newer)
        os.kill(victim, signal.SIGKILL)
        _wait("the worker comes back", lambda: _pids("worker", tmp_path) - before["worker"])
        assert len(_pids("worker", tmp_path)) == 1, "nothing of the killed worker outlived it"
        _wait("the stack is healthy again", lambda: _healthz(url)["checks"]["worker"] == "ok", 90)
        assert _pids("web", tmp_path) == before["web"], "web was restarted or stopped"
        console = (tmp_path / "console.log").read_text()
        assert "exited: worker (terminated by SIGKILL; not expected)" in console
        assert "spawned: 'worker'" in console
    finally:
        sup.send_signal(signal.SIGTERM)
        sup.wait(timeout=60)
        log.close()
    assert not any(_pids(name, tmp_path) for name in PROCESSES), "processes outlived the supervisor"
