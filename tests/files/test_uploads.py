"""tus uploads: creation, resume from the server's offset, checksum, limits, free space, termination, expiry."""

import base64
import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from files.models import Upload
from tests.files.conftest import snapshot

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def meta(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client, length: int, **values):
    return client.post(
        "/api/files/uploads/", HTTP_UPLOAD_LENGTH=str(length), HTTP_UPLOAD_METADATA=meta(**values), **TUS
    )


def patch(client, location: str, offset: int, data: bytes, checksum: str | None = None):
    extra = {"HTTP_UPLOAD_CHECKSUM": checksum} if checksum else {}
    return client.generic(
        "PATCH",
        location,
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **TUS,
        **extra,
    )


def sha1(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


def test_it_announces_the_protocol(admin_api):
    response = admin_api.options("/api/files/uploads/")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination", "checksum"}
    assert "sha1" in response["Tus-Checksum-Algorithm"]


def test_it_uploads_in_chunks_resumes_from_the_server_offset_and_verifies_checksums(admin_api, root):
    (root / "in").mkdir()
    data = bytes(range(256)) * 4096  # 1 MiB
    response = create(admin_api, len(data), filename="blob.bin", path="in")
    assert response.status_code == 201
    location = response["Location"]
    upload = Upload.objects.get()
    partial = root / "in" / f".casaos-upload-{upload.pk.hex}.part"
    assert partial.exists(), "bytes go to the target folder, never to a staging disk"
    assert patch(admin_api, location, 0, data[:300_000], sha1(data[:300_000]))["Upload-Offset"] == "300000"
    # A corrupted chunk is refused and leaves the file as it was.
    bad = patch(admin_api, location, 300_000, data[300_000:400_000], sha1(b"something else"))
    assert bad.status_code == 460
    assert partial.stat().st_size == 300_000
    # The client lost track (reload, network drop): it asks the server where to resume.
    head = admin_api.head(location, **TUS)
    assert head.status_code == 200 and head["Upload-Offset"] == "300000" and head["Cache-Control"] == "no-store"
    # A wrong offset is a conflict, not a corruption.
    assert patch(admin_api, location, 0, data[:10]).status_code == 409
    response = patch(admin_api, location, 300_000, data[300_000:], sha1(data[300_000:]))
    assert response.status_code == 204 and response["Upload-Offset"] == str(len(data))
    assert (root / "in" / "blob.bin").read_bytes() == data
    assert not partial.exists()
    assert Upload.objects.get().status == Upload.Status.COMPLETE


def test_a_finished_upload_keeps_both_names_on_conflict(admin_api, root):
    (root / "a.txt").write_text("old")
    location = create(admin_api, 3, filename="a.txt", path="")["Location"]
    assert patch(admin_api, location, 0, b"new").status_code == 204
    assert (root / "a.txt").read_text() == "old" and (root / "a (1).txt").read_text() == "new"


def test_a_dropped_folder_tree_lands_in_its_subfolders(admin_api, root):
    location = create(admin_api, 2, filename="x.txt", path="", relativePath="photos/2024/x.txt")["Location"]
    assert patch(admin_api, location, 0, b"hi").status_code == 204
    assert (root / "photos" / "2024" / "x.txt").read_text() == "hi"


@pytest.mark.parametrize("relative", ["../x.txt", "a/../../x.txt", "/etc/x.txt", ".casaos-trash/x.txt"])
def test_a_dropped_tree_cannot_climb_out(admin_api, root, relative):
    before = snapshot(root.parent)
    assert create(admin_api, 2, filename="x.txt", path="", relativePath=relative).status_code in (400, 403)
    assert snapshot(root.parent) == before and not Upload.objects.exists()


def test_it_refuses_an_upload_over_the_size_limit(admin_api, root, settings):
    settings.FILES_UPLOAD_MAX_SIZE = 1000
    before = snapshot(root.parent)
    assert create(admin_api, 1001, filename="big.bin", path="").status_code == 413
    assert snapshot(root.parent) == before and not Upload.objects.exists()


def test_a_disk_that_fills_up_before_the_bytes_come_gets_507_and_nothing_half_written(admin_api, small_disk, settings):
    settings.FILES_FREE_SPACE_RESERVE = 0
    data = os.urandom(3 * 1024 * 1024)
    location = create(admin_api, len(data), filename="late.bin", path="small")["Location"]
    (small_disk / "filler.bin").write_bytes(b"f" * (3 * 1024 * 1024))  # someone else took the space meanwhile
    response = patch(admin_api, location, 0, data, sha1(data))  # a checksum: the bytes go through the view
    assert response.status_code == 507 and b"No space left" in response.content
    (part,) = small_disk.glob(".casaos-upload-*.part")
    assert part.stat().st_size == 0 and Upload.objects.get().offset == 0


def test_it_refuses_an_upload_larger_than_the_free_space(admin_api, root, settings):
    import shutil

    settings.FILES_UPLOAD_MAX_SIZE = 2**62
    before = snapshot(root.parent)
    free = shutil.disk_usage(root).free
    response = create(admin_api, free + 1, filename="huge.bin", path="")
    assert response.status_code == 507
    assert snapshot(root.parent) == before and not Upload.objects.exists()


def test_it_refuses_a_chunk_past_the_announced_length(admin_api, root):
    location = create(admin_api, 3, filename="a.txt", path="")["Location"]
    assert patch(admin_api, location, 0, b"toolong").status_code == 413
    assert Upload.objects.get().offset == 0


def test_it_needs_the_protocol_header_and_content_type(admin_api, root):
    location = create(admin_api, 3, filename="a.txt", path="")["Location"]
    assert (
        admin_api.generic(
            "PATCH", location, b"abc", content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0"
        ).status_code
        == 412
    )
    assert (
        admin_api.generic(
            "PATCH", location, b"abc", content_type="text/plain", HTTP_UPLOAD_OFFSET="0", **TUS
        ).status_code
        == 415
    )


def test_termination_removes_the_partial_file(admin_api, root):
    location = create(admin_api, 10, filename="a.txt", path="")["Location"]
    patch(admin_api, location, 0, b"12345")
    assert admin_api.delete(location, **TUS).status_code == 204
    assert list(root.iterdir()) == [] and not Upload.objects.exists()


def test_another_user_cannot_touch_my_upload(admin_api, member_api, root):
    location = create(admin_api, 10, filename="a.txt", path="")["Location"]
    assert member_api.head(location, **TUS).status_code == 404
    assert patch(member_api, location, 0, b"12345").status_code == 404
    assert member_api.delete(location, **TUS).status_code == 404
    assert Upload.objects.get().offset == 0


def test_abandoned_uploads_are_cleaned_up(admin_api, root, settings):
    from files.services import uploads_expire

    location = create(admin_api, 10, filename="a.txt", path="")["Location"]
    patch(admin_api, location, 0, b"12345")
    assert uploads_expire() == 0
    Upload.objects.update(updated_at=timezone.now() - timedelta(hours=settings.FILES_UPLOAD_EXPIRY_HOURS + 1))
    assert uploads_expire() == 1
    assert list(root.iterdir()) == [] and not Upload.objects.exists()


# ---------------------------------------------------------------------------- free space and what uploads promised
MIB = 1024 * 1024


def test_a_refusal_for_space_says_what_is_needed_free_and_kept_in_reserve(admin_api, disk, settings):
    small = disk("small", 64)
    settings.FILES_FREE_SPACE_RESERVE = 256 * MIB
    response = create(admin_api, MIB, filename="a.bin", path="small")
    assert response.status_code == 507
    message = response.content.decode().replace("\xa0", " ")
    assert message.startswith("Not enough free space: 1.0 MB needed, 6") and "MB free" in message
    assert "256.0 MB is kept free on this disk (CASAOS_FILES_FREE_SPACE_RESERVE)" in message
    assert list(small.iterdir()) == [] and not Upload.objects.exists()


def test_creating_an_upload_counts_the_space_other_open_uploads_were_promised(admin_api, disk, root, settings):
    small = disk("small", 64)
    settings.FILES_FREE_SPACE_RESERVE = 4 * MIB
    first = create(admin_api, 40 * MIB, filename="first.bin", path="small")["Location"]
    assert create(admin_api, 30 * MIB, filename="other-disk.bin", path="").status_code == 201  # not this disk
    assert patch(admin_api, first, 0, b"x" * 8 * MIB).status_code == 204  # written bytes are no longer owed

    refused = create(admin_api, 30 * MIB, filename="second.bin", path="small")
    assert refused.status_code == 507
    assert "32.0 MB of it promised to uploads in progress" in refused.content.decode().replace("\xa0", " ")
    assert len(list(small.glob(".casaos-upload-*.part"))) == 1 and Upload.objects.count() == 2

    assert admin_api.delete(first, **TUS).status_code == 204  # the promise ends with the upload
    assert create(admin_api, 30 * MIB, filename="second.bin", path="small").status_code == 201


def test_an_upload_into_a_read_only_mount_is_refused_and_leaves_nothing(admin_api, read_only_folder):
    response = create(admin_api, 10, filename="a.txt", path="locked")
    assert response.status_code == 507 and "read-only" in response.content.decode()
    assert list(read_only_folder.iterdir()) == [] and not Upload.objects.exists()


def test_a_database_that_refuses_the_write_leaves_no_partial_file(admin_user, root, transactional_db):
    from django.db import DatabaseError

    from files.services import upload_create
    from tests.files.conftest import read_only_database

    with read_only_database(), pytest.raises(DatabaseError):
        upload_create(user=admin_user, directory="", length=10, metadata={"filename": "a.txt"})
    assert list(root.iterdir()) == [] and not Upload.objects.exists()


def test_the_cleanup_removes_partial_files_no_upload_owns_once_they_are_old(admin_api, root, settings):
    from files.services import uploads_expire

    owned = create(admin_api, 10, filename="a.txt", path="")
    assert owned.status_code == 201
    (root / "deep" / "er").mkdir(parents=True)
    old_orphan = root / "deep" / "er" / ".casaos-upload-0123456789abcdef0123456789abcdef.part"
    fresh_orphan = root / ".casaos-upload-fedcba9876543210fedcba9876543210.part"
    for orphan in (old_orphan, fresh_orphan):
        orphan.write_bytes(b"left")
    long_ago = time.time() - (settings.FILES_UPLOAD_EXPIRY_HOURS + 1) * 3600
    for path in (old_orphan, *root.glob(".casaos-upload-*.part")):
        os.utime(path, (long_ago, long_ago))  # old, the owned one too: its row still keeps it
    os.utime(fresh_orphan, None)  # an upload being created right now may not have its row yet

    uploads_expire()
    assert not old_orphan.exists() and fresh_orphan.exists()
    assert Path(Upload.objects.get().partial).exists()
