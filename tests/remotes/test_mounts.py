"""Remotes mounted through rclone against real servers on loopback (WebDAV, SFTP, smbd), used through the files API.

This kernel has no cifs or nfs client, so SMB goes through rclone's SMB backend here; the kernel path is tested at
the argv level in test_host.py.
"""

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from remotes.models import Remote
from remotes.services import is_mounted, remotes_reapply, remotes_watch
from tests.files.conftest import body
from tests.files.test_uploads import create, patch

from .conftest import PASSWORD, SMB_USER, USER, free_port, rclone_serve, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def add(client, name: str, kind: str, options: dict, secrets: dict):
    return client.post("/api/remotes/", {"name": name, "kind": kind, "options": options, "secrets": secrets},
                       format="json")  # fmt: skip


def webdav(server) -> dict:
    return {"url": f"http://127.0.0.1:{server.port}/", "user": USER}


def upload(client, folder: str, name: str, data: bytes):
    created = create(client, len(data), filename=name, path=folder)
    assert created.status_code == 201, created.content
    return patch(client, created["Location"], 0, data)


def names(client, path: str) -> set[str]:
    response = client.get("/api/files/", {"path": path})
    assert response.status_code == 200, response.content
    return {entry["name"] for entry in response.json()["entries"]}


def seeded(server):
    """The server's folder with a file in it before the mount (a mount lists a folder again after --dir-cache-time)."""
    (server.folder / "hello.txt").write_text("from the server")
    return server


def _used_through_the_files_api(client, root: str, served) -> None:
    assert "hello.txt" in names(client, root)
    got = client.get("/api/files/content/", {"path": f"{root}/hello.txt"})
    assert got.status_code == 200 and body(got) == b"from the server"
    data = os.urandom(200_000)
    assert upload(client, root, "up.bin", data).status_code == 204
    assert wait_for(lambda: (served / "up.bin").is_file() and (served / "up.bin").read_bytes() == data)
    assert client.post("/api/files/mkdir/", {"path": root, "name": "made"}, format="json").status_code == 201
    assert wait_for(lambda: (served / "made").is_dir())


# ---------------------------------------------------------------------------- the three servers
def test_a_webdav_drive_is_mounted_browsed_written_and_unmounted(webdav_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    made = add(client, "Cloud", "webdav", webdav(seeded(webdav_server)), {"pass": PASSWORD})
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "mounted" and made.json()["secrets_set"] == ["pass"]
    assert os.path.ismount(remote_dirs / "Cloud")
    _used_through_the_files_api(client, "@Cloud", webdav_server.folder)

    remote_id = made.json()["id"]
    assert client.post(f"/api/remotes/{remote_id}/unmount/").json()["state"] == "unmounted"
    assert not os.path.ismount(remote_dirs / "Cloud") and not (remote_dirs / "Cloud").exists()
    refused = client.get("/api/files/", {"path": "@Cloud"})
    assert refused.status_code in (404, 409)
    assert client.post(f"/api/remotes/{remote_id}/mount/").json()["state"] == "mounted"
    assert "hello.txt" in names(client, "@Cloud")
    assert client.delete(f"/api/remotes/{remote_id}/").status_code == 204
    assert not os.path.ismount(remote_dirs / "Cloud") and not Remote.objects.exists()
    assert not any((remote_dirs.parent / "remotes-config").iterdir())  # its config file went with it


def test_an_sftp_server_is_mounted_and_written(sftp_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    options = {"host": "127.0.0.1", "port": seeded(sftp_server).port, "user": USER}
    made = add(client, "Shell", "sftp", options, {"pass": PASSWORD})
    assert made.status_code == 201, made.content
    _used_through_the_files_api(client, "@Shell", sftp_server.folder)


def test_an_smb_share_is_mounted_through_rclone_and_written(smb_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    options = {"host": "127.0.0.1", "port": seeded(smb_server).port, "user": SMB_USER, "share": "data"}
    made = add(client, "NAS", "smb", options, {"pass": PASSWORD})
    assert made.status_code == 201, made.content
    assert "fuse.rclone casaos-remote-" in Path("/proc/self/mountinfo").read_text()  # rclone's SMB backend, not cifs
    _used_through_the_files_api(client, "@NAS", smb_server.folder)


# ---------------------------------------------------------------------------- failures
def test_wrong_credentials_leave_nothing_mounted_and_no_secret_anywhere(webdav_server, remote_dirs, admin_user,
                                                                        caplog):  # fmt: skip
    caplog.set_level(logging.DEBUG)
    client = client_of(admin_user)
    wrong = "Not-The-Pass-42"
    refused = add(client, "Cloud", "webdav", webdav(webdav_server), {"pass": wrong})
    assert refused.status_code == 422
    assert "401" in refused.json()["detail"] or "Unauthorized" in refused.json()["detail"]
    assert wrong not in refused.content.decode() and wrong not in caplog.text
    assert not Remote.objects.exists() and not (remote_dirs / "Cloud").exists()
    assert not any((remote_dirs.parent / "remotes-config").iterdir())


def test_a_missing_server_is_missing_and_retried_without_blocking(tmp_path, remote_dirs, admin_user):
    server = rclone_serve("webdav", tmp_path)
    client = client_of(admin_user)
    made = add(client, "Cloud", "webdav", webdav(server), {"pass": PASSWORD})
    assert made.status_code == 201
    port = server.port
    client.post(f"/api/remotes/{made.json()['id']}/unmount/")
    Remote.objects.update(state=Remote.State.MOUNTED)  # it was mounted when the box went down...
    server.stop()  # ...and its server is gone at start

    assert remotes_reapply() == {"Cloud": "missing"}  # bounded by the connect timeout: start-up goes on
    remote = Remote.objects.get()
    assert "does not answer" in remote.message and not os.path.ismount(remote.target)
    assert client.get("/api/files/", {"path": "@Cloud"}).status_code in (404, 409)

    server = rclone_serve("webdav", tmp_path, port=port)  # the server is back: the next minute's watch mounts it
    try:
        assert remotes_watch() == {"Cloud": "mounted"}
        assert os.path.ismount(remote.target)
    finally:
        server.stop()


def test_a_dead_rclone_daemon_is_noticed_and_mounted_again(webdav_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    assert add(client, "Cloud", "webdav", webdav(webdav_server), {"pass": PASSWORD}).status_code == 201
    target = str(remote_dirs / "Cloud")
    pid = _daemon_of(target)
    os.kill(pid, 9)  # the daemon dies (the worker restarting does not kill it; a crash would)
    assert wait_for(lambda: not _answers(target), seconds=10)
    remote = Remote.objects.get()
    assert remote.state == "mounted" and not is_mounted(remote), (
        remote.state,
        Path("/proc/self/mountinfo").read_text(),
    )
    assert remotes_watch() == {"Cloud": "mounted"}
    assert _answers(target) and _daemon_of(target) != pid


def _answers(target: str) -> bool:
    try:
        list(Path(target).iterdir())
    except OSError:
        return False
    return True


def command_lines():
    """(pid, argv) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue


def _daemon_of(target: str) -> int:
    for pid, argv in command_lines():
        if b"mount" in argv and os.fsencode(target) in argv:
            return pid
    raise AssertionError("no rclone daemon for " + target)


# ---------------------------------------------------------------------------- secrets
def test_secrets_are_never_shown_back_or_audited(webdav_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    made = add(client, "Cloud", "webdav", webdav(webdav_server), {"pass": PASSWORD})
    listing = (
        client.get("/api/remotes/").content.decode() + client.get(f"/api/remotes/{made.json()['id']}/").content.decode()
    )
    audit = json.dumps(list(AuditEvent.objects.values()), default=str)
    for text in (made.content.decode(), listing, audit):
        assert PASSWORD not in text
    stored = Remote.objects.values_list("secrets", flat=True).first()
    assert PASSWORD in stored  # decrypted by the field...
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM remotes_remote")
        assert PASSWORD not in cursor.fetchone()[0]  # ...encrypted in the database
    config = next((remote_dirs.parent / "remotes-config").glob("*.conf"))
    assert oct(config.stat().st_mode & 0o777) == "0o600" and PASSWORD not in config.read_text()


def test_a_password_never_reaches_a_command_line(webdav_server, remote_dirs, admin_user):
    client = client_of(admin_user)
    add(client, "Cloud", "webdav", webdav(webdav_server), {"pass": PASSWORD})
    for _pid, argv in command_lines():
        if b"casaos-remote-" in b" ".join(argv):
            assert PASSWORD.encode() not in b" ".join(argv)


def test_a_free_port_with_nothing_is_missing_not_failed(remote_dirs, admin_user):
    refused = add(client_of(admin_user), "Cloud", "webdav", {"url": f"http://127.0.0.1:{free_port()}/"}, {})
    assert refused.status_code == 422 and refused.json()["code"] == "mount-missing"


def test_a_member_reaches_a_remote_folder_only_through_a_grant(webdav_server, remote_dirs, admin_user, member_user):
    admin = client_of(admin_user)
    (webdav_server.folder / "films").mkdir()
    (webdav_server.folder / "films" / "a.mkv").write_bytes(b"film")
    (webdav_server.folder / "private.txt").write_text("admin only")
    assert add(admin, "Cloud", "webdav", webdav(webdav_server), {"pass": PASSWORD}).status_code == 201
    member = client_of(member_user)
    assert member.get("/api/files/content/", {"path": "@Cloud/private.txt"}).status_code in (403, 404)
    granted = admin.post("/api/files/grants/", {"user": member_user.pk, "path": "@Cloud/films", "name": "Films",
                                                "access": "read"}, format="json")  # fmt: skip
    assert granted.status_code == 201, granted.content
    assert body(member.get("/api/files/content/", {"path": "Films/a.mkv"})) == b"film"
    assert member.get("/api/files/content/", {"path": "Films/../private.txt"}).status_code in (400, 403, 404)


# ---------------------------------------------------------------------------- a place for app data
@pytest.mark.docker
def test_a_mounted_remote_is_a_place_for_app_data_a_container_writes_through(
    webdav_server, remote_dirs, admin_user, member_user
):
    from tests.apps.conftest import HTTPD
    from tests.storage.test_disk_apps import host_access

    client = client_of(admin_user)
    made = add(client, "Cloud", "webdav", webdav(webdav_server), {"pass": PASSWORD})
    assert made.status_code == 201, made.content
    folder = remote_dirs / "Cloud" / "AppData" / "t"
    assert host_access(admin_user, str(folder)) == []  # like a disk we mounted: no consent needed
    assert host_access(member_user, str(folder)) != []  # a member's places are their granted folders only
    folder.mkdir(parents=True)
    argv = ["docker", "run", "--rm", "-v", f"{folder}:/data", "--entrypoint", "sh", HTTPD, "-c", "echo app > /data/x"]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    assert wait_for(lambda: (webdav_server.folder / "AppData" / "t" / "x").is_file())  # on the server, not here

    assert client.post(f"/api/remotes/{made.json()['id']}/unmount/").json()["state"] == "unmounted"
    assert host_access(admin_user, str(folder)) != []  # its folder without the mount is the system disk's
