"""Share links: exactly the shared entry, nothing beside it; expiry, password (with lockout), revoke, upload-only."""

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from files.models import ShareLink, Upload
from files.services import sharelink_create, sharelink_revoke
from tests.files.conftest import body, snapshot

pytestmark = pytest.mark.redis


@pytest.fixture
def shared(root, admin_user):
    (root / "public").mkdir()
    (root / "public" / "a.txt").write_text("shared a")
    (root / "public" / "inner").mkdir()
    (root / "public" / "inner" / "b.txt").write_text("shared b")
    (root / "private.txt").write_text("private")
    (root / "public-x").mkdir()
    (root / "public-x" / "c.txt").write_text("sibling")
    return root


def test_a_file_link_serves_that_file_only(shared, admin_user):
    share = sharelink_create(user=admin_user, path="public/a.txt")
    anon = Client()
    assert anon.get(f"/s/{share.token}/").status_code == 200
    assert body(anon.get(f"/s/{share.token}/download/")) == b"shared a"
    for path in ("../private.txt", "x", "../public/a.txt"):
        assert anon.get(f"/s/{share.token}/download/", {"path": path}).status_code == 404


def test_a_folder_link_reaches_inside_but_nothing_beside(shared, admin_user):
    share = sharelink_create(user=admin_user, path="public")
    anon = Client()
    assert body(anon.get(f"/s/{share.token}/download/", {"path": "inner/b.txt"})) == b"shared b"
    for path in ("../private.txt", "../public-x/c.txt", "/etc/passwd", "inner/../../private.txt", ""):
        assert anon.get(f"/s/{share.token}/download/", {"path": path}).status_code == 404
    page = anon.get(f"/s/{share.token}/").content.decode()
    assert "a.txt" in page and "private" not in page
    assert anon.get(f"/s/{share.token}/zip/").status_code == 200


def test_expired_and_revoked_links_reach_nothing(shared, admin_user):
    share = sharelink_create(user=admin_user, path="public/a.txt", expires_at=timezone.now() + timedelta(hours=1))
    anon = Client()
    assert anon.get(f"/s/{share.token}/download/").status_code == 200
    ShareLink.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anon.get(f"/s/{share.token}/download/").status_code == 404
    other = sharelink_create(user=admin_user, path="public/a.txt")
    sharelink_revoke(user=admin_user, share=other)
    assert anon.get(f"/s/{other.token}/").status_code == 404
    assert anon.get("/s/not-a-token/").status_code == 404


def test_a_password_link_needs_the_password_and_locks_after_many_wrong_ones(shared, admin_user, redis_client):
    share = sharelink_create(user=admin_user, path="public/a.txt", password="open sesame")
    redis_client.delete(f"casaos:files:share-pw:{share.token}")
    anon = Client()
    assert anon.get(f"/s/{share.token}/download/").status_code == 404
    assert anon.post(f"/s/{share.token}/", {"password": "wrong"}).status_code == 403
    assert anon.post(f"/s/{share.token}/", {"password": "open sesame"}).status_code == 302
    assert body(anon.get(f"/s/{share.token}/download/")) == b"shared a"
    attacker = Client()
    for _ in range(10):
        attacker.post(f"/s/{share.token}/", {"password": "guess"})
    # Locked: even the right password is refused now.
    assert attacker.post(f"/s/{share.token}/", {"password": "open sesame"}).status_code == 403
    assert attacker.get(f"/s/{share.token}/download/").status_code == 404
    redis_client.delete(f"casaos:files:share-pw:{share.token}")


def test_an_upload_only_link_accepts_files_but_shows_nothing(shared, admin_user):
    share = sharelink_create(user=admin_user, path="public", access="upload")
    anon = Client()
    page = anon.get(f"/s/{share.token}/").content.decode()
    assert "a.txt" not in page
    assert anon.get(f"/s/{share.token}/download/", {"path": "a.txt"}).status_code == 404
    meta = f"filename {base64.b64encode(b'drop.txt').decode()}"
    created = anon.post(
        f"/s/{share.token}/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="4", HTTP_UPLOAD_METADATA=meta
    )
    assert created.status_code == 201
    done = anon.generic(
        "PATCH",
        created["Location"],
        b"drop",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        HTTP_TUS_RESUMABLE="1.0.0",
    )
    assert done.status_code == 204
    assert (shared / "public" / "drop.txt").read_text() == "drop"
    # A traversal in the file name is refused and writes nothing.
    before = snapshot(shared.parent)
    evil = f"filename {base64.b64encode(b'../evil.txt').decode()}"
    assert (
        anon.post(
            f"/s/{share.token}/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1", HTTP_UPLOAD_METADATA=evil
        ).status_code
        == 400
    )
    assert snapshot(shared.parent) == before and Upload.objects.count() == 1


def test_a_read_link_cannot_upload(shared, admin_user):
    share = sharelink_create(user=admin_user, path="public")
    meta = f"filename {base64.b64encode(b'x.txt').decode()}"
    assert (
        Client()
        .post(
            f"/s/{share.token}/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1", HTTP_UPLOAD_METADATA=meta
        )
        .status_code
        == 403
    )


def test_links_are_listed_per_user_and_only_the_owner_revokes(shared, admin_api, member_api, admin_user):
    created = admin_api.post("/api/files/shares/", {"path": "public/a.txt", "password": "pw"}, format="json")
    assert created.status_code == 201 and created.json()["has_password"] and "password" not in created.json()
    assert len(admin_api.get("/api/files/shares/").json()) == 1
    assert member_api.get("/api/files/shares/").json() == []
    assert member_api.delete(f"/api/files/shares/{created.json()['id']}/").status_code == 404
    assert ShareLink.objects.get().is_active


def test_an_upload_only_link_with_a_password_takes_files_only_after_the_password(shared, admin_user, redis_client):
    share = sharelink_create(user=admin_user, path="public", access="upload", password="drop here")
    redis_client.delete(f"casaos:files:share-pw:{share.token}")
    meta = f"filename {base64.b64encode(b'late.txt').decode()}"
    before = snapshot(shared.parent)

    def create(client):
        return client.post(
            f"/s/{share.token}/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="4", HTTP_UPLOAD_METADATA=meta
        )

    stranger = Client()
    assert "password" in stranger.get(f"/s/{share.token}/").content.decode()
    assert create(stranger).status_code == 403
    assert stranger.post(f"/s/{share.token}/", {"password": "wrong"}).status_code == 403
    assert create(stranger).status_code == 403
    assert snapshot(shared.parent) == before and not Upload.objects.exists()

    guest = Client()
    assert guest.post(f"/s/{share.token}/", {"password": "drop here"}).status_code == 302
    page = guest.get(f"/s/{share.token}/").content.decode()
    assert 'id="shared-upload"' in page and "a.txt" not in page
    created = create(guest)
    assert created.status_code == 201
    # The upload belongs to the link, not to whoever holds its URL: the stranger cannot touch it.
    location = created["Location"]
    assert (
        stranger.generic(
            "PATCH",
            location,
            b"evil",
            content_type="application/offset+octet-stream",
            HTTP_UPLOAD_OFFSET="0",
            HTTP_TUS_RESUMABLE="1.0.0",
        ).status_code
        == 403
    )
    assert stranger.generic("DELETE", location, HTTP_TUS_RESUMABLE="1.0.0").status_code == 403
    done = guest.generic(
        "PATCH",
        location,
        b"late",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        HTTP_TUS_RESUMABLE="1.0.0",
    )
    assert done.status_code == 204
    assert (shared / "public" / "late.txt").read_text() == "late"
    assert guest.get(f"/s/{share.token}/download/", {"path": "late.txt"}).status_code == 404  # still write-only
