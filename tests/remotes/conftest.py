"""Real servers on free loopback ports for the remotes tests: `rclone serve webdav`, `rclone serve sftp`, and an
smbd of our own (its own smb.conf, passdb and private folders under the test's tmp folder, bound to lo only).

This machine's kernel has no cifs or nfs client: SMB is mounted through rclone's SMB backend (FUSE), and the kernel
path is tested at the argv level (tests/remotes/test_host.py).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from files import paths
from tests.samba import samba_helpers_stop

USER, PASSWORD = "casa", "Sw0rdfish-remote"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, child: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited with {child.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Server:
    """A server a test talks to: where it listens, the folder it serves, and its process."""

    port: int
    folder: Path
    child: subprocess.Popen

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(10)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


def _start(argv: list[str], port: int, folder: Path, log: Path) -> Server:
    # A session of its own: smbd ends its whole process group when it stops, which must never be pytest's.
    child = subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    server = Server(port=port, folder=folder, child=child)
    try:
        wait_port(port, child)
    except RuntimeError:
        server.stop()
        raise RuntimeError(f"{argv[0:3]} did not start: {log.read_text()[-2000:]}") from None
    return server


def rclone_serve(kind: str, tmp_path: Path, *, port: int | None = None) -> Server:
    folder = tmp_path / f"{kind}-served"
    folder.mkdir(exist_ok=True)
    port = port or free_port()
    argv = ["rclone", "serve", kind, str(folder), "--addr", f"127.0.0.1:{port}", "--user", USER, "--pass", PASSWORD]
    # The server's own folder cache would hide files a test writes straight into its folder for minutes.
    argv += ["--dir-cache-time", "100ms", "--poll-interval", "0"]
    if kind == "sftp":
        argv += ["--cache-dir", str(tmp_path / "sftp-cache"), "--config", "/dev/null"]
    return _start(argv, port, folder, tmp_path / f"{kind}.log")


@pytest.fixture
def webdav_server(tmp_path):
    server = rclone_serve("webdav", tmp_path)
    yield server
    server.stop()


@pytest.fixture
def sftp_server(tmp_path):
    server = rclone_serve("sftp", tmp_path)
    yield server
    server.stop()


SMB_CONF = """[global]
  smb ports = {port}
  interfaces = lo
  bind interfaces only = yes
  disable netbios = yes
  server role = standalone server
  map to guest = never
  private dir = {base}/private
  lock directory = {base}/lock
  state directory = {base}/state
  cache directory = {base}/cache
  pid directory = {base}/pid
  ncalrpc dir = {base}/ncalrpc
  log file = {base}/smbd.log
  passdb backend = tdbsam:{base}/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[data]
  path = {share}
  read only = no
"""
# smbpasswd needs a Unix account: an existing unprivileged one, with a password in our own passdb only.
SMB_USER = "nobody"


@pytest.fixture
def smb_server(tmp_path):
    if not shutil.which("smbd"):
        pytest.fail("smbd is not installed (scripts/setup.sh installs samba)")
    base = tmp_path / "smb"
    # smbd serves the share as an unprivileged user: pytest's tmp folders (0700) cannot be passed through by it.
    outer = Path(tempfile.mkdtemp(prefix="casaos-smb-"))
    outer.chmod(0o755)
    share = outer / "share"
    for folder in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
        (base / folder).mkdir(parents=True)
    share.mkdir()
    share.chmod(0o777)
    port = free_port()
    conf = base / "smb.conf"
    conf.write_text(SMB_CONF.format(port=port, base=base, share=share))
    subprocess.run(["smbpasswd", "-c", str(conf), "-s", "-a", SMB_USER], input=f"{PASSWORD}\n{PASSWORD}\n",
                   text=True, check=True, capture_output=True)  # fmt: skip
    argv = ["smbd", "--foreground", "--no-process-group", "-s", str(conf)]
    server = _start(argv, port, share, base / "out.log")
    yield server
    server.stop()
    samba_helpers_stop(conf)
    shutil.rmtree(outer, ignore_errors=True)


@pytest.fixture
def remote_dirs(tmp_path, settings):
    """Mount, cache and config folders of this test's own (the mount root outside any protected folder)."""
    settings.REMOTES_MOUNT_ROOT = tmp_path / "remotes-mnt"
    settings.REMOTES_CACHE_DIR = tmp_path / "remotes-cache"
    settings.REMOTES_CONFIG_DIR = tmp_path / "remotes-config"
    settings.REMOTES_CONNECT_TIMEOUT = 3
    root = tmp_path / "files-root"
    root.mkdir()
    settings.FILES_ROOT = root
    paths._protected.cache_clear()
    yield settings.REMOTES_MOUNT_ROOT
    _unmount_all(settings.REMOTES_MOUNT_ROOT)
    paths._protected.cache_clear()


def _unmount_all(root: Path) -> None:
    """Whatever a test left mounted under its mount root (a failing test must not leave a FUSE mount behind)."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if os.path.ismount(entry):
            subprocess.run(["fusermount", "-u", "-z", str(entry)], check=False, capture_output=True)


def wait_for(check, seconds: float = 20, step: float = 0.2):
    """Poll until check() is truthy (an upload through the VFS cache reaches the server a few seconds later)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
