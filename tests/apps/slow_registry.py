"""A throttling TCP proxy in front of the loopback registry, so a pull takes long enough to watch or cancel."""

import contextlib
import socket
import threading
import time


class SlowRegistry:
    """127.0.0.1:<port> forwards to the registry, sending at most `rate` bytes a second back to the client.

    Docker treats every 127.0.0.0/8 registry as insecure, so `127.0.0.1:<port>/casa/httpd:1` pulls through it.
    """

    def __init__(self, rate: int = 256 * 1024, upstream: str = "127.0.0.1:5000") -> None:
        self.rate = rate
        self.upstream = upstream
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def image(self, ref: str) -> str:
        """The same image reached through this proxy ("casa/httpd:1" -> "127.0.0.1:<port>/casa/httpd:1")."""
        return f"{self.address}/{ref}"

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            host, port = self.upstream.split(":")
            upstream = socket.create_connection((host, int(port)))
            threading.Thread(target=self._pipe, args=(client, upstream, 0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.rate), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rate: int) -> None:
        chunk = max(1024, rate // 20) if rate else 65536
        with contextlib.suppress(OSError):
            while not self._closed.is_set():
                data = src.recv(chunk)
                if not data:
                    break
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def push_fresh_image(registry: str = "127.0.0.1:5000", *, payload: int = 3 << 20, httpd: bool = True) -> str:
    """Push a never-seen image (busybox httpd plus `payload` random bytes) and drop it from Docker again.

    Its layer exists in no engine, so pulling it moves real bytes. Returns "casa-apps/fresh:<tag>" (no registry).
    """
    import io
    import os
    import tarfile
    import uuid

    import docker

    client = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(os.path.realpath("/bin/busybox"), arcname="bin/busybox")
        for applet in ("sh", "httpd"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        page = b"hello fresh\n"
        info = tarfile.TarInfo("www/index.html")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
        data = os.urandom(payload)
        info = tarfile.TarInfo("payload.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    repo, tag = f"{registry}/casa-apps/fresh", uuid.uuid4().hex[:12]
    changes = ['CMD ["/bin/httpd","-f","-p","8080","-h","/www"]'] if httpd else None
    client.import_image_from_data(buf.getvalue(), repository=repo, tag=tag, changes=changes)
    for line in client.push(repo, tag=tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(line["error"])
    client.remove_image(f"{repo}:{tag}", force=True)
    return f"casa-apps/fresh:{tag}"


def delete_from_registry(ref: str, registry: str = "127.0.0.1:5000") -> None:
    """Drop a test manifest from the registry again (best effort)."""
    import urllib.request

    name, _, tag = ref.rpartition(":")
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    try:
        head = urllib.request.Request(
            f"http://{registry}/v2/{name}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
        )
        with urllib.request.urlopen(head, timeout=5) as resp:
            digest = resp.headers["Docker-Content-Digest"]
        delete = urllib.request.Request(f"http://{registry}/v2/{name}/manifests/{digest}", method="DELETE")
        urllib.request.urlopen(delete, timeout=5).close()
    except OSError:
        pass
