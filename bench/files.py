"""File manager benchmark, against baselines measured in the same run on the same disk:

- a 1 GiB upload through tus over loopback vs `cp` of the same file (and the web process's peak RSS),
- a 1 GiB download vs `cat` to /dev/null,
- listing a 10,000-entry folder through the API vs `os.scandir` + stat.

Goals (issue 7): upload >= 0.8x cp with RSS flat, download >= 0.8x cat, listing <= 3x scandir.
Run alone with `python -m bench files` (or `python -m bench.files`). CASAOS_BENCH_FILE_MIB changes the size.
"""

import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

SIZE = int(os.environ.get("CASAOS_BENCH_FILE_MIB", "1024")) * 1024 * 1024
CHUNK = 32 * 1024 * 1024  # bytes per tus PATCH (the browser sends 16 MiB)
ENTRIES = 10_000
ROOT_DIR = Path(__file__).resolve().parent.parent


def _setup() -> Path:
    # A data directory of our own (on the same disk as the repo): never the test suite's database.
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-files-", dir=os.environ.get("CASAOS_BENCH_DIR")))
    os.environ["CASAOS_DATA_DIR"] = str(data)
    os.environ["CASAOS_FILES_ROOT"] = str(data / "files")
    os.environ["DJANGO_SETTINGS_MODULE"] = "casaos_site.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def _session_cookie() -> str:
    from django.test import Client

    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(admin=True, username="bench-admin"))
    return client.cookies["sessionid"].value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_daphne(port: int, data: Path) -> subprocess.Popen:
    log = (data / "daphne.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "casaos_site.asgi:application"], cwd=ROOT_DIR, env=os.environ.copy(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not start; see {data / 'daphne.log'}")


class RssSampler(threading.Thread):
    """Peak resident memory of one process, sampled every 20 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = self.start_rss = self.proc.memory_info().rss
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


class Api:
    def __init__(self, port: int, cookie: str):
        self.port = port
        token = "b" * 32
        self.headers = {"Cookie": f"sessionid={cookie}; csrftoken={token}", "X-CSRFToken": token}

    def request(self, method: str, url: str, body=None, headers=None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request(method, url, body=body, headers={**self.headers, **(headers or {})})
        return conn.getresponse()


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _make_source(path: Path) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as fh:
        for _ in range(SIZE // len(block)):
            fh.write(block)


def _tus_upload(api: Api, source: Path, name: str) -> None:
    import base64

    meta = f"filename {base64.b64encode(name.encode()).decode()},path "
    created = api.request("POST", "/api/files/uploads/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(SIZE), "Upload-Metadata": meta})
    created.read()
    assert created.status == 201, (created.status, created.getheaders())
    location = urlsplit(created.getheader("Location")).path
    offset = 0
    with source.open("rb") as fh:
        while offset < SIZE:
            chunk = fh.read(CHUNK)
            response = api.request("PATCH", location, body=chunk, headers={
                "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream"})
            response.read()
            assert response.status == 204, (response.status, response.read())
            offset = int(response.getheader("Upload-Offset"))


def _download(api: Api, name: str) -> None:
    response = api.request("GET", f"/api/files/content/?path={name}")
    assert response.status == 200, response.status
    total = 0
    while block := response.read(1024 * 1024):
        total += len(block)
    assert total == SIZE, total


def _scandir(folder: Path) -> None:
    with os.scandir(folder) as it:
        for entry in it:
            entry.stat(follow_symlinks=False)


def _list(api: Api, page_size: int) -> None:
    response = api.request("GET", f"/api/files/?path=many&page_size={page_size}")
    body = response.read()
    assert response.status == 200 and b'"count":10000' in body.replace(b" ", b""), body[:200]


def _median(fn, repeat: int = 7) -> float:
    fn()  # warm-up
    return statistics.median(_timed(fn) for _ in range(repeat))


def main() -> int:
    data = _setup()
    root = data / "files"
    root.mkdir(exist_ok=True)
    cookie = _session_cookie()
    port = _free_port()
    daphne = _start_daphne(port, data)
    api = Api(port, cookie)
    try:
        source = data / "source.bin"
        _make_source(source)
        mib = SIZE / 1024 / 1024
        print(f"file size: {mib:.0f} MiB, tus chunk {CHUNK // 1024 // 1024} MiB, disk {root}")

        cp_time = _timed(lambda: subprocess.run(["cp", "--", str(source), str(root / "cp-copy.bin")], check=True))
        (root / "cp-copy.bin").unlink()
        sampler = RssSampler(daphne.pid)
        sampler.start()
        up_time = _timed(lambda: _tus_upload(api, source, "uploaded.bin"))
        peak = sampler.stop()
        assert (root / "uploaded.bin").stat().st_size == SIZE
        print(f"upload  tus {mib / up_time:8.1f} MiB/s   cp  {mib / cp_time:8.1f} MiB/s   "
              f"ratio {cp_time / up_time:.2f}x (goal >= 0.8x)")
        print(f"web process RSS: {sampler.start_rss / 2**20:.0f} MiB before, {peak / 2**20:.0f} MiB peak "
              f"(+{(peak - sampler.start_rss) / 2**20:.0f} MiB for a {mib:.0f} MiB upload)")

        cat_time = _timed(lambda: subprocess.run(["cat", "--", str(root / "uploaded.bin")], check=True,
                                                 stdout=subprocess.DEVNULL))
        down_time = _timed(lambda: _download(api, "uploaded.bin"))
        print(f"download  {mib / down_time:8.1f} MiB/s   cat {mib / cat_time:8.1f} MiB/s   "
              f"ratio {cat_time / down_time:.2f}x (goal >= 0.8x)")

        many = root / "many"
        many.mkdir()
        for i in range(ENTRIES):
            (many / f"file-{i:05d}.txt").write_bytes(b"")
        base = _median(lambda: _scandir(many))
        page = _median(lambda: _list(api, 200))
        full = _median(lambda: _list(api, 1000))
        print(f"listing 10,000 entries: scandir+stat {base * 1000:.1f} ms; API first page (200) "
              f"{page * 1000:.1f} ms = {page / base:.1f}x; API page of 1000 {full * 1000:.1f} ms = "
              f"{full / base:.1f}x (goal <= 3x; both include HTTP on loopback)")
    finally:
        daphne.terminate()
        daphne.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
