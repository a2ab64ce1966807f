"""Network targets for real: SFTP to OpenSSH's sshd on a loopback port (its own config and host key), and REST to
`rclone serve restic`. A folder is backed up and a file restored through each.

Why sshd and not `rclone serve sftp` (1.60): restic 0.14 makes an SFTP repository with a first connection that it
closes before opening the next, and treats ssh's exit status as the result of that close. rclone's server ends the
sftp subsystem without sending an exit status, so OpenSSH's client exits with 255 and `restic init` fails with
"Close: ssh command exited: exit status 255" (the folders are made, the config file never is)."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from backups.models import Snapshot
from backups.services import repository_create, restore_queue, restore_run
from tests.backups.test_runs import _job, _run
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def _wait_port(port: int, proc, *, seconds: float = 10) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"the server on port {port} did not start")


@pytest.fixture
def sshd(tmp_path):
    """OpenSSH's sshd on a loopback port, with its own host key, config and authorized key; stopped afterwards."""
    if shutil.which("sshd", path="/usr/sbin") is None or os.geteuid() != 0:
        pytest.skip("openssh-server (scripts/setup.sh) and root are needed")
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    shutil.copy(tmp_path / "client.pub", tmp_path / "authorized_keys")
    port = free_port()
    config = tmp_path / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {tmp_path / 'host'}\nPidFile {tmp_path / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {tmp_path / 'authorized_keys'}\nPasswordAuthentication no\nUsePAM no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n"
        "Subsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(tmp_path / "sshd.log")])
    _wait_port(port, proc)
    yield port, (tmp_path / "client").read_text(), tmp_path / "target"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def rest_server(tmp_path):
    """`rclone serve restic` on a loopback port with a user and password; stopped afterwards."""
    if shutil.which("rclone") is None:
        pytest.skip("rclone is not installed")
    port, root = free_port(), tmp_path / "rest"
    root.mkdir()
    argv = ["rclone", "serve", "restic", str(root), "--addr", f"127.0.0.1:{port}", "--user", "casa"]
    env = {**os.environ, "RCLONE_PASS": "s3cret-pw"}  # rclone reads its flags from the environment too
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, proc)
    yield port, root
    proc.terminate()
    proc.wait(timeout=10)


def _round_trip(repo, admin_user, photos) -> None:
    assert _run(_job(repo, admin_user), admin_user).status == "done"
    (photos / "a.txt").write_text("changed")
    snap = Snapshot.objects.get(repository=repo)
    restored = restore_run(run_id=restore_queue(user=admin_user, snapshot=snap, paths=[f"{photos}/a.txt"]).pk)
    assert restored.status == "done", restored.error
    assert (photos / "a.txt").read_text() == "v0"


def test_a_backup_and_a_restore_over_sftp(sshd, admin_user, photos, restic_present):
    port, key, target = sshd
    repo = repository_create(
        user=admin_user, name="nas", kind="sftp", location=f"127.0.0.1:{target}", username="root", port=port, secret=key
    )
    assert (target / "config").is_file()
    _round_trip(repo, admin_user, photos)


def test_a_backup_and_a_restore_over_rest(rest_server, admin_user, photos, restic_present):
    port, root = rest_server
    repo = repository_create(
        user=admin_user,
        name="rest",
        kind="rest",
        location=f"http://127.0.0.1:{port}/box",
        username="casa",
        secret="s3cret-pw",
    )
    assert (root / "box" / "config").is_file()
    _round_trip(repo, admin_user, photos)


def test_a_wrong_rest_password_is_refused_in_words_and_fails_a_run(rest_server, admin_user, photos, restic_present):
    from backups.models import Repository
    from backups.services import RepositoryError
    from tests.backups.test_runs import _failed_with

    port, root = rest_server
    fields = {"kind": "rest", "location": f"http://127.0.0.1:{port}/box", "username": "casa"}
    with pytest.raises(RepositoryError) as exc:  # restic's "unable to open config file: ... 401" is not "no repository"
        repository_create(user=admin_user, name="rest", secret="not-it", **fields)
    assert str(exc.value) == "the backup target refused the user name or password"
    assert not Repository.objects.exists() and not (root / "box").exists()
    repo = repository_create(user=admin_user, name="rest", secret="s3cret-pw", **fields)
    Repository.objects.filter(pk=repo.pk).update(secret="not-it")
    repo.refresh_from_db()
    _failed_with(_run(_job(repo, admin_user), admin_user), "the backup target refused the user name or password")
