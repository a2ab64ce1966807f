"""Fixtures of the shares tests: a real smbd of our own on a loopback port (its own smb.conf, passdb and state
under a temporary folder), a files root it may reach, and the Unix accounts the tests made, removed afterwards."""

import contextlib
import grp
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from files import paths
from shares import tasks
from shares.host import accounts as host_accounts
from shares.models import SambaAccount
from tests.conftest import free_port, missing
from tests.samba import samba_helpers_stop

SERVICE_USER = "casaos-share-test"
CONF = """[global]
   server role = standalone server
   smb ports = {port}
   interfaces = lo
   bind interfaces only = yes
   disable netbios = yes
   server min protocol = SMB2
   private dir = {base}/private
   lock directory = {base}/lock
   state directory = {base}/state
   cache directory = {base}/cache
   pid directory = {base}/run
   ncalrpc dir = {base}/ncalrpc
   binddns dir = {base}/binddns
   log file = {base}/smbd.log
   passdb backend = tdbsam:{base}/private/passdb.tdb
   map to guest = bad user
   load printers = no
   printcap name = /dev/null
   disable spoolss = yes
"""


@dataclass
class Samba:
    """A running smbd: its port, its smb.conf, our include file beside it, and a world-enterable files root."""

    base: Path
    port: int
    conf: Path
    include: Path
    files: Path
    process: subprocess.Popen

    def client(
        self, share: str, user: str | None, password: str = "", command: str = "ls"
    ) -> subprocess.CompletedProcess:
        who = ["-U", f"{user}%{password}"] if user else ["-N"]
        argv = ["smbclient", "-p", str(self.port), f"//127.0.0.1/{share}", *who, "-c", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    def listing(self, user: str, password: str) -> str:
        argv = ["smbclient", "-p", str(self.port), "-L", "//127.0.0.1", "-U", f"{user}%{password}"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False).stdout


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"smbd exited: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    pytest.fail("smbd did not listen within 20 s")


@pytest.fixture(scope="module")
def samba_server():
    """smbd on a free loopback port with its own configuration; stopped, and the service user removed, afterwards."""
    if shutil.which("smbd") is None or shutil.which("smbclient") is None:
        missing("samba and smbclient are not installed (scripts/setup.sh installs them)")
    # World-enterable (0755): smbd works in the share as the service user, who must be able to walk down to it.
    base = Path(tempfile.mkdtemp(prefix="casaos-smb-"))
    base.chmod(0o755)
    for name in ("private", "lock", "state", "cache", "run", "ncalrpc", "binddns", "files"):
        (base / name).mkdir()
    (base / "files").chmod(0o755)
    port = free_port()
    conf = base / "smb.conf"
    conf.write_text(CONF.format(port=port, base=base))
    log = base / "stdout.log"
    with log.open("w") as out:
        # A session of its own: smbd's parent signals its whole process group when it stops, which must not be ours.
        process = subprocess.Popen(
            ["smbd", "--foreground", "--no-process-group", f"--configfile={conf}"],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        _wait_listening(port, process, log)
        yield Samba(base, port, conf, base / "casaos-shares.conf", base / "files", process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        samba_helpers_stop(conf)
        shutil.rmtree(base, ignore_errors=True)
        _remove_service_user()


def _remove_service_user() -> None:
    with contextlib.suppress(KeyError):
        pwd.getpwnam(SERVICE_USER)
        subprocess.run(["userdel", "--", SERVICE_USER], check=False)
    with contextlib.suppress(KeyError):
        grp.getgrnam(SERVICE_USER)
        subprocess.run(["groupdel", "--", SERVICE_USER], check=False)


@pytest.fixture
def samba(samba_server, settings, db):
    """The module's smbd, with the settings pointed at it and a files root it may reach; the Unix accounts a test
    made are removed when it ends (the database is rolled back without deleting them)."""
    settings.SAMBA_CONF = samba_server.conf
    settings.SAMBA_INCLUDE = samba_server.include
    settings.SHARES_USER = SERVICE_USER
    root = Path(tempfile.mkdtemp(prefix="root-", dir=samba_server.files))
    root.chmod(0o755)
    settings.FILES_ROOT = root
    paths._protected.cache_clear()
    yield samba_server
    for account in SambaAccount.objects.all():
        host_accounts.account_remove(name=account.unix_name, user_id=account.user_id, conf=samba_server.conf)
    shutil.rmtree(root, ignore_errors=True)
    paths._protected.cache_clear()


@pytest.fixture
def applied(monkeypatch, django_capture_on_commit_callbacks):
    """`with applied():` runs what a service queued once its change commits: the shares.apply task, in this process
    (as the worker would); yields the list of the runs."""
    runs = []

    def run_now(*args):
        runs.append(args)
        tasks.shares_apply(*args)

    monkeypatch.setattr(tasks.shares_apply, "delay", run_now)

    @contextlib.contextmanager
    def block():
        with django_capture_on_commit_callbacks(execute=True):
            yield runs

    return block


@pytest.fixture
def root(tmp_path, settings):
    """A files root with a folder "Media", a file, and a link that leads out of the root."""
    base = tmp_path / "root"
    (base / "Media").mkdir(parents=True)
    (base / "notes.txt").write_text("a file")
    (tmp_path / "outside").mkdir()
    (base / "out").symlink_to(tmp_path / "outside")
    settings.FILES_ROOT = base
    paths._protected.cache_clear()
    yield base
    paths._protected.cache_clear()


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.shares_apply, "delay", lambda *args: calls.append(args))
    return calls
