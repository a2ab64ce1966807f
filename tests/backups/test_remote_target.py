"""A repository on a remote of the Remotes page (kind rclone): made from the remote by its id and a folder in it;
restic reaches it through rclone with a config the remotes app builds for each command. Real servers: WebDAV and
SFTP served by `rclone serve` on loopback (tests/remotes/conftest.py)."""

import json

import pytest
from django.core.exceptions import ValidationError

from backups.models import BackupJob, JobRun, Repository, Snapshot
from backups.services import repository_create, restore_queue, restore_run
from remotes.models import Remote
from tests.backups.test_runs import _job, _run
from tests.clients import logged_in
from tests.remotes.conftest import PASSWORD, USER, free_port

pytestmark = pytest.mark.django_db

FOLDER = "backups/casaos"


@pytest.fixture
def remote_config(settings, tmp_path):
    """The remotes app's config folder of this test's own, and a short wait for a server that is away."""
    settings.REMOTES_CONFIG_DIR = tmp_path / "remotes-config"
    settings.REMOTES_CONNECT_TIMEOUT = 3
    return settings.REMOTES_CONFIG_DIR


def _remote(kind: str, port: int, name: str = "Cloud") -> Remote:
    """A remote as the Remotes page keeps it (not mounted: a backup reaches it through rclone, not the mount)."""
    options = {"url": f"http://127.0.0.1:{port}/", "user": USER}
    if kind == "sftp":
        options = {"host": "127.0.0.1", "port": str(port), "user": USER}
    return Remote.objects.create(name=name, kind=kind, options=options, secrets=json.dumps({"pass": PASSWORD}))


def _post(client, **body):
    return client.post("/api/backups/repositories/", {"name": "offsite", "kind": "rclone", **body}, "application/json")


def _nothing_made(server=None) -> None:
    assert not Repository.objects.exists() and not JobRun.objects.exists()
    if server is not None:
        assert not any(server.folder.iterdir())


@pytest.mark.parametrize("kind", ["webdav", "sftp"])
def test_a_repository_on_a_remote_backs_up_lists_and_restores(
    kind, request, remote_config, admin_user, photos, restic_present
):
    server = request.getfixturevalue(f"{kind}_server")
    remote = _remote(kind, server.port)
    client = logged_in(admin_user)
    made = _post(client, remote=remote.pk, location=f"/{FOLDER}/")
    assert made.status_code == 201, made.content
    assert made.json()["remote"] == remote.pk and made.json()["remote_name"] == "Cloud"
    assert made.json()["location"] == FOLDER and len(made.json()["password"]) == 47
    assert (server.folder / FOLDER / "config").is_file()  # restic's repository, on the server
    repo = Repository.objects.get()

    assert _run(_job(repo, admin_user), admin_user).status == "done"
    (listed,) = client.get("/api/backups/snapshots/", {"repository": repo.pk}).json()
    entries = client.get(f"/api/backups/snapshots/{listed['id']}/", {"path": str(photos)}).json()["entries"]
    assert [e["name"] for e in entries] == ["a.txt"]

    (photos / "a.txt").write_text("changed")
    snap = Snapshot.objects.get(pk=listed["id"])
    restored = restore_run(run_id=restore_queue(user=admin_user, snapshot=snap, paths=[f"{photos}/a.txt"]).pk)
    assert restored.status == "done", restored.error
    assert (photos / "a.txt").read_text() == "v0"
    assert not list(remote_config.glob("run-*"))  # every command's config went with it


def test_a_member_cannot_keep_backups_on_a_remote(webdav_server, remote_config, member_user, restic_present):
    remote = _remote("webdav", webdav_server.port)
    answer = _post(logged_in(member_user), remote=remote.pk, location=FOLDER)
    assert answer.status_code == 403
    page = logged_in(member_user).post("/backups/repositories/", {"name": "x", "kind": "rclone", "remote": remote.pk})
    assert page.status_code == 403
    with pytest.raises(ValidationError, match="no remote"):  # the service checks the user too, whoever calls it
        repository_create(user=member_user, name="x", kind="rclone", remote=remote.pk, location=FOLDER)
    _nothing_made(webdav_server)


def test_a_wrong_remote_is_a_clear_400_with_nothing_made(
    webdav_server, remote_config, admin_client, settings, restic_present
):
    remote = _remote("webdav", webdav_server.port)
    nfs = Remote.objects.create(name="Exports", kind="nfs", options={"host": "nas", "export": "/x"})
    cases = [
        ({"remote": remote.pk + 100, "location": FOLDER}, f"There is no remote {remote.pk + 100} that you can"),
        ({"remote": nfs.pk, "location": FOLDER}, "There is no remote"),  # rclone has no NFS client
        ({"location": "gdrive:backups"}, "Choose the remote"),  # the free-text remote:path form is gone
        ({"remote": remote.pk, "location": "../../etc"}, "must not contain"),
        ({"remote": remote.pk, "location": "/"}, "Give a folder inside the remote"),
    ]
    for body, words in cases:
        answer = _post(admin_client, **body)
        assert answer.status_code == 400 and words in answer.json()["detail"], (body, answer.content)
    local = admin_client.post(
        "/api/backups/repositories/",
        {"name": "d", "kind": "local", "location": str(settings.DATA_DIR.parent / "elsewhere"), "remote": remote.pk},
        "application/json",
    )
    assert local.status_code == 400 and "Only a repository on a cloud drive" in local.json()["detail"]
    _nothing_made(webdav_server)
    assert not list(remote_config.glob("run-*"))


def test_a_remote_that_is_away_or_not_authorised_is_refused_in_words(remote_config, admin_client, restic_present):
    away = _remote("webdav", free_port())
    answer = _post(admin_client, remote=away.pk, location=FOLDER)
    assert answer.status_code == 400 and answer.json()["detail"] == "the backup target does not answer"
    drive = Remote.objects.create(name="Drive", kind="drive", state=Remote.State.AUTHORIZING)
    answer = _post(admin_client, remote=drive.pk, location=FOLDER)
    assert answer.status_code == 400 and "Authorise access to “Drive” first" in answer.json()["detail"]
    _nothing_made()
    assert not list(remote_config.glob("run-*"))


def test_a_remote_refused_password_says_what_rclone_said(webdav_server, remote_config, admin_client, restic_present):
    remote = _remote("webdav", webdav_server.port)
    remote.secrets = json.dumps({"pass": "not-the-password"})
    remote.save()
    answer = _post(admin_client, remote=remote.pk, location=FOLDER)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("the remote cannot be opened:") and "401" in answer.json()["detail"]
    _nothing_made(webdav_server)


def test_a_remote_that_keeps_backups_cannot_be_deleted(
    webdav_server, remote_config, admin_user, admin_client, photos, restic_present
):
    remote = _remote("webdav", webdav_server.port)
    made = _post(admin_client, remote=remote.pk, location=FOLDER)
    assert made.status_code == 201, made.content
    refused = admin_client.delete(f"/api/remotes/{remote.pk}/")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "“Cloud” is still used by backup repository “offsite”: remove that first, then the remote."
    )
    page = admin_client.post(f"/remotes/{remote.pk}/delete/")
    assert page.status_code == 409 and "still used by backup repository “offsite”" in page.content.decode()
    remote.refresh_from_db()  # nothing lost: its credentials, and the repository that needs them
    assert json.loads(remote.secrets) == {"pass": PASSWORD}
    repo = Repository.objects.get()
    assert repo.remote == remote
    assert _run(_job(repo, admin_user), admin_user).status == "done"

    BackupJob.objects.all().delete()
    assert admin_client.delete(f"/api/backups/repositories/{repo.pk}/").status_code == 204
    assert admin_client.delete(f"/api/remotes/{remote.pk}/").status_code == 204
    assert (webdav_server.folder / FOLDER / "config").is_file()  # forgetting a repository leaves its data


def test_the_page_makes_one_from_a_remote_and_shows_where_it_is(
    webdav_server, remote_config, admin_user, restic_present
):
    remote = _remote("webdav", webdav_server.port)
    Remote.objects.create(name="Exports", kind="nfs", options={"host": "nas", "export": "/x"})
    client = logged_in(admin_user)
    page = client.get("/backups/").content.decode()
    assert f'<option value="{remote.pk}">Cloud (WebDAV)</option>' in page and "Exports" not in page
    answer = client.post("/backups/repositories/", {"name": "offsite", "kind": "rclone", "remote": remote.pk,
                                                    "location": FOLDER})  # fmt: skip
    repo = Repository.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/backups/repositories/{repo.pk}/recovery/"
    sheet = client.get(answer["Location"]).content.decode()
    assert f"--location REMOTE:{FOLDER} " in sheet and "rclone config" in sheet
    assert f"@Cloud/{FOLDER}" in client.get("/backups/").content.decode()
    wrong = client.post("/backups/repositories/", {"name": "x", "kind": "rclone", "remote": remote.pk + 50,
                                                   "location": FOLDER})  # fmt: skip
    assert wrong.status_code == 400 and "Select a valid choice" in wrong.content.decode()
    assert Repository.objects.count() == 1


def test_manage_restore_finds_the_restored_row_of_a_remote_by_its_password(webdav_server, remote_config, admin_user):
    from backups.wholebox import _repository_row

    remote = _remote("webdav", webdav_server.port)
    kept = Repository.objects.create(name="offsite", kind="rclone", remote=remote, location=FOLDER, password="p" * 47)
    Repository.objects.create(name="other", kind="rclone", remote=remote, location="else", password="q" * 47)
    given = Repository(kind="rclone", location=f"gdrive:{FOLDER}", password="p" * 47)  # rclone's own remote
    assert _repository_row(given) == kept and Repository.objects.count() == 2


def test_rclones_words_reach_the_page_without_the_remotes_secrets(remote_config):
    from backups.host.restic import ResticError
    from backups.targets import opened

    repo = Repository(kind="rclone", remote=_remote("webdav", free_port()), location=FOLDER, password="x")
    with pytest.raises(ResticError) as exc, opened(repo):
        raise ResticError("restic failed", stderr=f"rclone: login with {PASSWORD} refused")
    assert str(exc.value) == "rclone: login with ••• refused" and PASSWORD not in exc.value.stderr
