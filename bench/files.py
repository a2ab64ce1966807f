"""File manager benchmark, against baselines measured in the same run on the same disk:

- a 1 GiB upload through tus over loopback vs `cp` of the same file (and the web process's peak RSS),
- a 1 GiB download (curl) vs `cat` to /dev/null (and the web process's peak RSS),
- listing a 10,000-entry folder through the API vs `os.scandir` + stat.

The server is started the way `make run` starts it: `manage.py serve` on CASAOS_BIND. Every timed step starts
from a synced disk (dirty pages left by the step before skew the next one by 2-5x here) and is the median of
RUNS. Context figures, not goals: `cp` + fsync (our upload fsyncs before it moves the file into place) and
curl from `python -m http.server` (a plain Python server using sendfile, no framework, no checks).

Ceilings, also measured in the same run: the bare TCP loopback (sendfile to a socket, no HTTP, no disk) received
without a copy (splice to /dev/null: the fastest any upload over TCP could go), and curl from a bare responder
that only sendfile()s the file (the fastest any server could serve curl). Uploads are timed as a tus client sends by default (the whole
file in one PATCH) and as our browser page sends (16 MiB PATCHes).

Goals (issue 7): upload >= 0.8x cp with RSS flat, download >= 0.8x cat, listing <= 3x scandir.
Run alone with `python -m bench files` (or `python -m bench.files`). CASAOS_BENCH_FILE_MIB changes the size,
CASAOS_BENCH_RUNS the repetitions.
"""

import base64
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
RUNS = int(os.environ.get("CASAOS_BENCH_RUNS", "5"))
BROWSER_CHUNK = 16 * 1024 * 1024  # bytes per tus PATCH from our browser page (a tus client's default: all)
ENTRIES = 10_000
ROOT_DIR = Path(__file__).resolve().parent.parent
MIB = SIZE / 1024 / 1024


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


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not start; see {log}")


def _start(args: list[str], port: int, log: Path, cwd: Path = ROOT_DIR) -> subprocess.Popen:
    env = {**os.environ, "CASAOS_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    _wait_for_port(port, proc, log)
    return proc


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


def _synced(fn) -> float:
    """Time `fn` from a disk with no dirty pages left by the step before."""
    os.sync()
    return _timed(fn)


def _median(fn, repeat: int = RUNS) -> float:
    return statistics.median(fn() for _ in range(repeat))


def _make_source(path: Path) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as fh:
        for _ in range(SIZE // len(block)):
            fh.write(block)


def _tus_upload(api: Api, source: Path, name: str, chunk: int = SIZE) -> None:
    meta = (
        f"filename {base64.b64encode(name.encode()).decode()},path ,conflict {base64.b64encode(b'overwrite').decode()}"
    )
    created = api.request(
        "POST",
        "/api/files/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(SIZE), "Upload-Metadata": meta},
    )
    created.read()
    assert created.status == 201, (created.status, created.getheaders())
    location = urlsplit(created.getheader("Location")).path
    # One keep-alive connection, as a browser's tus client uses; each body goes out with sendfile(2), so the
    # client copies nothing through user space and what is measured is the server.
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=600)
    offset = 0
    with source.open("rb") as fh:
        while offset < SIZE:
            length = min(chunk, SIZE - offset)
            conn.putrequest("PATCH", location)
            headers = {
                **api.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(length),
            }
            for key, value in headers.items():
                conn.putheader(key, value)
            conn.endheaders()
            conn.sock.sendfile(fh, offset, length)
            response = conn.getresponse()
            response.read()
            assert response.status == 204, (response.status, response.getheaders())
            offset = int(response.getheader("Upload-Offset"))
    conn.close()


def _curl(url: str, headers: dict[str, str] | None = None) -> None:
    args = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    size = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    assert int(size) == SIZE, size


def _cp_with_fsync(source: Path, copy: Path) -> None:
    subprocess.run(["cp", "--", str(source), str(copy)], check=True)
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _scandir(folder: Path) -> None:
    with os.scandir(folder) as it:
        for entry in it:
            entry.stat(follow_symlinks=False)


def _list(api: Api, page_size: int) -> None:
    response = api.request("GET", f"/api/files/?path=many&page_size={page_size}")
    body = response.read()
    assert response.status == 200 and b'"count":10000' in body.replace(b" ", b""), body[:200]


def _rate(seconds: float) -> str:
    return f"{MIB / seconds:8.1f} MiB/s"


def bench_upload(api: Api, server: subprocess.Popen, source: Path, root: Path) -> None:
    copy = root / "cp-copy.bin"

    def cp() -> float:
        copy.unlink(missing_ok=True)
        return _synced(lambda: subprocess.run(["cp", "--", str(source), str(copy)], check=True))

    def cp_fsync() -> float:
        copy.unlink(missing_ok=True)
        return _synced(lambda: _cp_with_fsync(source, copy))

    cp_time, cp_fsync_time = _median(cp), _median(cp_fsync)
    copy.unlink()
    peaks = []

    def upload() -> float:
        (root / "uploaded.bin").unlink(missing_ok=True)
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            return _synced(lambda: _tus_upload(api, source, "uploaded.bin"))
        finally:
            peaks.append((sampler.start_rss, sampler.stop()))

    up_time = _median(upload)
    assert (root / "uploaded.bin").stat().st_size == SIZE

    def chunked() -> float:
        (root / "uploaded.bin").unlink(missing_ok=True)
        return _synced(lambda: _tus_upload(api, source, "uploaded.bin", BROWSER_CHUNK))

    chunked_time = _median(chunked)
    wire = _median(lambda: _synced(lambda: _loopback(source, _splice_to_null)))
    print(f"upload    tus {_rate(up_time)}   cp {_rate(cp_time)}   ratio {cp_time / up_time:.2f}x (goal >= 0.8x)")
    print(
        f"          context: cp + fsync {_rate(cp_fsync_time)} (same durability as the upload): "
        f"{cp_fsync_time / up_time:.2f}x; in {BROWSER_CHUNK // 2**20} MiB PATCHes as the browser sends "
        f"{_rate(chunked_time)} = {cp_time / chunked_time:.2f}x cp"
    )
    print(
        f"          ceiling: the bare TCP loopback (sendfile -> splice to /dev/null, no HTTP, no disk) "
        f"{_rate(wire)} = {cp_time / wire:.2f}x cp; the upload reaches {wire / up_time:.2f}x of it"
    )
    print(
        "          web process RSS: "
        + ", ".join(f"{a / 2**20:.0f} -> {b / 2**20:.0f} MiB" for a, b in peaks)
        + f" (before -> peak, per {MIB:.0f} MiB upload)"
    )


def _splice_to_null(conn: socket.socket) -> None:
    """Receive into /dev/null without copying (splice through a pipe): the cheapest possible receiver."""
    null = os.open(os.devnull, os.O_WRONLY)
    read_end, write_end = os.pipe()
    try:
        while moved := os.splice(conn.fileno(), write_end, 1024 * 1024):
            while moved:
                moved -= os.splice(read_end, null, moved)
    finally:
        for fd in (null, read_end, write_end):
            os.close(fd)


class BareFileServer(threading.Thread):
    """Answers every request on one port with `file`, sent by sendfile(2): no framework, no checks, no copy in
    user space. curl from it is the fastest any server could serve curl here."""

    def __init__(self, file: Path):
        super().__init__(daemon=True)
        self.file = file
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                return  # closed
            with conn, self.file.open("rb") as fh:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(65536)
                size = os.fstat(fh.fileno()).st_size
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
                conn.sendfile(fh)

    def close(self) -> None:
        self.listener.close()


def _loopback(source: Path, receive) -> None:
    """Send `source` with sendfile(2) over a loopback TCP connection to `receive`: no HTTP, no disk write."""
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def accept() -> None:
            with listener.accept()[0] as conn:
                receive(conn)

        receiver = threading.Thread(target=accept)
        receiver.start()
        with socket.create_connection(listener.getsockname()) as conn, source.open("rb") as fh:
            conn.sendfile(fh)
        receiver.join()


def bench_download(api: Api, server: subprocess.Popen, data: Path, root: Path) -> None:
    file = root / "uploaded.bin"
    cat_time = _median(
        lambda: _synced(lambda: subprocess.run(["cat", "--", str(file)], check=True, stdout=subprocess.DEVNULL))
    )
    url = f"http://127.0.0.1:{api.port}/api/files/content/?path={file.name}"
    sampler = RssSampler(server.pid)
    sampler.start()
    down_time = _median(lambda: _synced(lambda: _curl(url, {"Cookie": api.headers["Cookie"]})))
    peak = sampler.stop()
    port = _free_port()
    plain = _start(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        port,
        data / "http-server.log",
        cwd=root,
    )
    try:
        plain_time = _median(lambda: _synced(lambda: _curl(f"http://127.0.0.1:{port}/{file.name}")))
    finally:
        plain.terminate()
        plain.wait(timeout=10)
    bare = BareFileServer(file)
    bare.start()
    try:
        bare_time = _median(lambda: _synced(lambda: _curl(f"http://127.0.0.1:{bare.port}/")))
    finally:
        bare.close()
    print(
        f"download  curl {_rate(down_time)}   cat {_rate(cat_time)}   ratio {cat_time / down_time:.2f}x (goal >= 0.8x)"
    )
    print(
        f"          context: curl from python -m http.server {_rate(plain_time)} = {cat_time / plain_time:.2f}x cat;"
        f" ours = {plain_time / down_time:.2f}x of it"
    )
    print(
        f"          ceiling: curl from a bare sendfile(2) responder {_rate(bare_time)} = {cat_time / bare_time:.2f}x"
        f" cat; the download reaches {bare_time / down_time:.2f}x of it"
    )
    print(
        f"          web process RSS: {sampler.start_rss / 2**20:.0f} -> {peak / 2**20:.0f} MiB during {RUNS} downloads"
    )


def bench_listing(api: Api, root: Path) -> None:
    many = root / "many"
    many.mkdir()
    for i in range(ENTRIES):
        (many / f"file-{i:05d}.txt").write_bytes(b"")

    def warm_median(fn) -> float:
        fn()  # warm-up
        return statistics.median(_timed(fn) for _ in range(7))

    base = warm_median(lambda: _scandir(many))
    page = warm_median(lambda: _list(api, 200))
    full = warm_median(lambda: _list(api, 1000))
    print(
        f"listing 10,000 entries: scandir+stat {base * 1000:.1f} ms; API first page (200) "
        f"{page * 1000:.1f} ms = {page / base:.1f}x; API page of 1000 {full * 1000:.1f} ms = "
        f"{full / base:.1f}x (goal <= 3x; both include HTTP on loopback)"
    )


def main() -> int:
    data = _setup()
    root = data / "files"
    root.mkdir(exist_ok=True)
    api = Api(_free_port(), _session_cookie())
    server = _start([sys.executable, "manage.py", "serve"], api.port, data / "serve.log")
    try:
        source = data / "source.bin"
        _make_source(source)
        print(f"file size: {MIB:.0f} MiB, disk {root}, median of {RUNS} runs, server: manage.py serve")
        bench_upload(api, server, source, root)
        bench_download(api, server, data, root)
        bench_listing(api, root)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
