"""Attacks on remotes: members adding them, config syntax or flags smuggled in names and options, paths leading out
of a remote's root."""

import pytest
from rest_framework.test import APIClient

from remotes.models import Remote

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.django_db(transaction=True)


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def add(client, name: str, options: dict, secrets: dict | None = None, kind: str = "webdav"):
    return client.post("/api/remotes/", {"name": name, "kind": kind, "options": options, "secrets": secrets or {}},
                       format="json")  # fmt: skip


def test_members_cannot_add_list_or_change_remotes(member_user):
    client = client_of(member_user)
    assert add(client, "Cloud", {"url": "http://127.0.0.1:1/"}).status_code == 403
    assert client.get("/api/remotes/").status_code == 403
    assert client.post("/api/remotes/sync/", {}, format="json").status_code == 403
    assert not Remote.objects.exists()


def test_anonymous_callers_are_refused():
    assert APIClient().get("/api/remotes/").status_code in (401, 403)


@pytest.mark.parametrize(
    "name",
    ["../etc", "a/b", "-o allow_other", "x\n[evil]", ".hidden", "@Data", "a" * 49, "", "name:", "x]", "tab\tname"],
)
def test_a_name_that_is_not_a_plain_folder_name_is_refused(admin_user, remote_dirs, name):
    response = add(client_of(admin_user), name, {"url": "http://127.0.0.1:1/"})
    assert response.status_code == 400, response.content
    assert not Remote.objects.exists() and not any(remote_dirs.parent.glob("remotes-mnt/*"))


@pytest.mark.parametrize(
    ("options", "secrets"),
    [
        ({"url": "http://127.0.0.1:1/\n[evil]\ntype = local"}, {}),
        ({"url": "http://127.0.0.1:1/", "user": "ann\nbearer_token = x"}, {}),
        ({"url": "http://127.0.0.1:1/"}, {"pass": "pw\r\ntype = local"}),
        ({"url": "http://127.0.0.1:1/", "type": "local"}, {}),  # only this kind's own names
        ({"url": "http://127.0.0.1:1/", "--config": "/etc/x"}, {}),
        ({"url": "http://127.0.0.1:1/", "path": "../../etc"}, {}),
        ({"url": "file:///etc/"}, {}),
        ({"url": "--daemon"}, {}),
    ],
)
def test_options_carrying_config_syntax_or_flags_are_refused(admin_user, remote_dirs, options, secrets):
    response = add(client_of(admin_user), "Cloud", options, secrets)
    assert response.status_code == 400, response.content
    assert not Remote.objects.exists()


def test_an_smb_host_written_as_an_option_is_refused(admin_user, remote_dirs):
    response = add(client_of(admin_user), "NAS", {"host": "-oexec", "share": "data"}, kind="smb")
    assert response.status_code == 400


def test_a_path_leading_out_of_a_remote_root_is_refused(webdav_server, remote_dirs, admin_user, member_user):
    client = client_of(admin_user)
    made = add(client, "Cloud", {"url": f"http://127.0.0.1:{webdav_server.port}/", "user": USER}, {"pass": PASSWORD})
    assert made.status_code == 201, made.content
    (remote_dirs.parent / "files-root" / "private.txt").write_text("root only")
    for path in ("@Cloud/../private.txt", "@Cloud/../../remotes-config", "@Cloud/%2e%2e/x"):
        response = client.get("/api/files/content/", {"path": path})
        assert response.status_code in (400, 403, 404), (path, response.status_code)
    (webdav_server.folder / "to-etc").symlink_to("/etc")  # rclone serves no link: never a way out of ours
    listing = client.get("/api/files/content/", {"path": "@Cloud/to-etc/passwd"})
    assert listing.status_code in (403, 404) or b"root:" not in listing.content
    # a member sees no remote without a grant
    member = client_of(member_user)
    assert member.get("/api/files/", {"path": "@Cloud"}).status_code == 404
