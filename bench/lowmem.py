"""Low memory: the whole stack (web + worker as the Procfile starts them, and a Redis server of its own) in one
memory cgroup limited to 512 MB, as on a 1 GB Pi with the apps taking the rest. It installs a one-service app,
uploads 64 MiB through tus and browses the pages; nothing may be killed (the cgroup's OOM kills stay at zero, every
process is still the one that started) and every step must succeed. The apps' containers are the engine's, not in
this cgroup.

A bench module rather than a test: a stack, a Redis and an install take longer than a minute, and it needs root's
cgroup v1 memory controller (/sys/fs/cgroup/memory); run alone with `python -m bench.lowmem`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from bench import _report, _stack

LIMIT_MB = int(os.environ.get("BENCH_LOWMEM_MB", "512"))
IMAGE = os.environ.get("BENCH_QUEUE_IMAGE", "127.0.0.1:5000/casa/httpd:1")
CGROUPS = Path("/sys/fs/cgroup/memory")
UPLOAD_MB, CHUNK_MB = 64, 8
PAGES = ("/", "/apps/", "/appstore/", "/files/", "/settings/", "/system/status/")


def main() -> None:
    group = _cgroup()
    redis = None
    try:
        redis, redis_url = _redis(group)
        with _stack.running(redis_url, preexec=lambda: _join(group)) as stack:
            before = {p.pid for p in stack.processes()}
            steps = _exercise(stack)
            survived = before == {p.pid for p in stack.processes()}
        peak, kills = _peak_mb(group), _oom_kills(group)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        with contextlib.suppress(OSError):
            group.rmdir()
    print(f"under {LIMIT_MB} MB: {steps}; peak {peak:.0f} MB; OOM kills {kills}; every process survived: {survived}")
    _report.row(
        f"whole stack (web, worker, Redis) in a {LIMIT_MB} MB memory cgroup: install, 64 MiB upload, pages",
        f"peak {peak:.0f} MB, {kills} OOM kills, " + ", ".join(f"{k} {v}" for k, v in steps.items()),
        goal="nothing killed, every step succeeds",
        met=kills == 0 and survived and all(v == "ok" for v in steps.values()),
    )


def _cgroup() -> Path:
    if not (CGROUPS / "memory.limit_in_bytes").exists():
        raise SystemExit(f"no cgroup v1 memory controller at {CGROUPS}: cannot run the low-memory benchmark")
    group = CGROUPS / f"casaos-bench-lowmem-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text(str(LIMIT_MB * 2**20))
    with contextlib.suppress(OSError):  # no swap accounting on this kernel: memory alone is limited
        (group / "memory.memsw.limit_in_bytes").write_text(str(LIMIT_MB * 2**20))
    return group


def _join(group: Path) -> None:
    (group / "cgroup.procs").write_text(str(os.getpid()))


def _redis(group: Path) -> tuple[subprocess.Popen, str]:
    port = _stack.free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: _join(group),
    )
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def _exercise(stack: _stack.Stack) -> dict[str, str]:
    cookie = stack.session_cookie()
    token = stack.django(
        "from accounts.models import User\nfrom accounts.services.tokens import api_token_create\n"
        "print(api_token_create(user=User.objects.get(username='bench-admin'), name='lowmem', scope='full')[1])"
    )
    steps = {"install": _step(lambda: _install(stack, token)), "upload": _step(lambda: _upload(stack, token))}
    steps["pages"] = _step(lambda: _browse(stack, cookie))
    return steps


def _step(run) -> str:
    try:
        run()
    except Exception as exc:  # the figure says which step failed and how
        return f"failed ({exc})"
    return "ok"


def _request(stack, path: str, *, token: str = "", cookie: str = "", method: str = "GET", body=None, headers=None):
    request = urllib.request.Request(f"http://{stack.bind}{path}", data=body, method=method, headers=headers or {})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.status, dict(resp.headers), resp.read()


def _install(stack, token: str) -> None:
    compose = f"services:\n  web:\n    image: {IMAGE}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    name = f"bench-lowmem-{uuid.uuid4().hex[:6]}"
    body = json.dumps({"compose": compose, "name": name}).encode()
    _, _, raw = _request(
        stack, "/api/apps/", token=token, method="POST", body=body, headers={"Content-Type": "application/json"}
    )
    pk = json.loads(raw)["id"]
    try:
        deadline = time.monotonic() + 120
        while (status := json.loads(_request(stack, f"/api/apps/{pk}/", token=token)[2])["status"]) != "running":
            assert time.monotonic() < deadline and status not in ("failed", "cancelled"), status
            time.sleep(0.5)
    finally:
        stack.django(
            "import sys\nfrom apps.models import Installation\nfrom apps.services.cleanup import app_objects_remove\n"
            "from apps.services.common import engine\n"
            "app_objects_remove(eng=engine(), name=sys.argv[1]); Installation.objects.filter(name=sys.argv[1]).delete()",
            name,
        )


def _upload(stack, token: str) -> None:
    tus = {"Tus-Resumable": "1.0.0"}
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {"filename": "big.bin", "path": ""}.items()
    )
    headers = {**tus, "Upload-Length": str(UPLOAD_MB * 2**20), "Upload-Metadata": meta}
    _, answer, _ = _request(stack, "/api/files/uploads/", token=token, method="POST", body=b"", headers=headers)
    location = answer["Location"].split(stack.bind, 1)[1]
    chunk = os.urandom(CHUNK_MB * 2**20)
    for offset in range(0, UPLOAD_MB * 2**20, len(chunk)):
        headers = {**tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        _request(stack, location, token=token, method="PATCH", body=chunk, headers=headers)
    assert (stack.data / "files" / "big.bin").stat().st_size == UPLOAD_MB * 2**20


def _browse(stack, cookie: str) -> None:
    for path in PAGES:
        status, _, _ = _request(stack, path, cookie=cookie)
        assert status == 200, f"{path}: {status}"


def _peak_mb(group: Path) -> float:
    return int((group / "memory.max_usage_in_bytes").read_text()) / 2**20


def _oom_kills(group: Path) -> int:
    text = (group / "memory.oom_control").read_text()
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")), 0)


if __name__ == "__main__":
    main()
