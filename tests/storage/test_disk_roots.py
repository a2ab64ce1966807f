"""Mounted disks and pools as roots of the file manager (issue 15 item 7), on real loop devices.

An admin sees each disk of our mount table as "@<name>"; a member sees a disk's folder only through a grant. Every
act re-checks that the disk is still mounted where our table says: an unmounted disk's mount point is an empty
folder of the system disk, and nothing may ever be written there.
"""

import os
import subprocess

import pytest
from rest_framework.test import APIClient

from files import paths
from files.models import FolderGrant, TrashItem
from files.services import entries_trash, filetask_create, filetask_run, trash_restore
from storage.models import Mount
from storage.mounts import mount_create
from tests.factories import UserFactory
from tests.files.conftest import body, exchange, snapshot
from tests.files.test_uploads import create, patch
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_broker_messages")]


@pytest.fixture
def files_root(tmp_path, settings):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret outside")
    settings.FILES_ROOT = root
    paths._protected.cache_clear()
    yield root
    paths._protected.cache_clear()


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def mounted(loop_disks, label: str) -> Mount:
    device = loop_disks.make()
    make_fs(device, "ext4", label)
    return mount_create(fs_uuid=fs_uuid(device))


def post(client, url: str, data: dict):
    return client.post(url, data, format="json")


def newfile(client, folder: str, name: str, text: str):
    made = post(client, "/api/files/newfile/", {"path": folder, "name": name})
    if made.status_code != 201:
        return made
    path = f"{folder}/{name}"
    etag = client.get("/api/files/text/", {"path": path}).json()["etag"]
    return client.put(f"/api/files/content/?path={path}", {"content": text}, format="json", HTTP_IF_MATCH=etag)


def upload(client, folder: str, name: str, data: bytes):
    created = create(client, len(data), filename=name, path=folder)
    if created.status_code != 201:
        return created
    return patch(client, created["Location"], 0, data)


def content(client, path: str) -> bytes:
    response = client.get("/api/files/content/", {"path": path})
    assert response.status_code == 200, (path, response.status_code)
    return body(response)


def user_files(folder) -> set[str]:
    """What a folder holds, less the lost+found of a fresh ext4."""
    return {entry.name for entry in folder.iterdir() if entry.name != "lost+found"}


# ---------------------------------------------------------------------------- the test
def test_a_disk_is_written_through_the_file_manager_unmounted_and_remounted(loop_disks, media_root, files_root, admin):
    client = client_of(admin)
    device = loop_disks.make()
    make_fs(device, "ext4", "Data")
    mount = client.post("/api/storage/mounts/", {"uuid": fs_uuid(device)}, format="json").json()
    listing = client.get("/api/files/", {"path": "@Data"}).json()
    assert listing["breadcrumb"][0] == {"name": "Data", "path": "@Data", "disk": True} and listing["disk"] == "Data"

    assert newfile(client, "@Data", "note.txt", "on the disk").status_code == 200
    data = os.urandom(300_000)
    assert upload(client, "@Data", "blob.bin", data).status_code == 204
    assert (media_root / "Data" / "blob.bin").read_bytes() == data  # on the disk itself

    assert client.post(f"/api/storage/mounts/{mount['id']}/unmount/").status_code == 204
    gone = client.get("/api/files/", {"path": "@Data"})
    assert gone.status_code == 404 and "No disk called “Data” is mounted" in gone.json()["detail"]
    assert client.get("/api/files/content/", {"path": "@Data/note.txt"}).status_code == 404
    assert newfile(client, "@Data", "late.txt", "x").status_code == 404
    assert upload(client, "@Data", "late.bin", b"x").status_code == 404
    (media_root / "Data").mkdir()  # a mount point left behind on the system disk: still never written
    assert newfile(client, "@Data", "late.txt", "x").status_code == 404
    assert user_files(media_root / "Data") == set()
    (media_root / "Data").rmdir()

    client.post("/api/storage/mounts/", {"uuid": fs_uuid(device)}, format="json")
    assert content(client, "@Data/note.txt") == b"on the disk"
    assert content(client, "@Data/blob.bin") == data


def test_a_disk_unmounted_behind_our_back_refuses_every_act(loop_disks, media_root, files_root, admin):
    """Our table still says mounted, the kernel says otherwise: the empty folder on the system disk stays empty."""
    client = client_of(admin)
    mounted(loop_disks, "Data")
    assert newfile(client, "@Data", "a.txt", "a").status_code == 200
    (files_root / "src.txt").write_text("source")
    started = create(client, 5, filename="half.bin", path="@Data")
    assert started.status_code == 201
    subprocess.run(["umount", "--", str(media_root / "Data")], check=True)
    before = snapshot(media_root)

    checks = [
        client.get("/api/files/", {"path": "@Data"}),
        client.get("/api/files/content/", {"path": "@Data/a.txt"}),
        post(client, "/api/files/mkdir/", {"path": "@Data", "name": "new"}),
        post(client, "/api/files/newfile/", {"path": "@Data", "name": "new.txt"}),
        create(client, 1, filename="x.bin", path="@Data"),
        patch(client, started["Location"], 0, b"hello"),
        post(client, "/api/files/copy/", {"sources": ["src.txt"], "destination": "@Data"}),
        post(client, "/api/files/delete/", {"paths": ["@Data/a.txt"]}),
    ]
    for response in checks:
        assert response.status_code in (404, 409), (response.status_code, response.content)
    assert "is not mounted now" in checks[0].json()["detail"]
    assert snapshot(media_root) == before and user_files(media_root / "Data") == set()


def test_a_lost_disk_says_so(loop_disks, media_root, files_root, admin):
    mount = mounted(loop_disks, "Data")
    Mount.objects.filter(pk=mount.pk).update(state=Mount.State.LOST)
    response = client_of(admin).get("/api/files/", {"path": "@Data"})
    assert response.status_code == 409 and "removed without an eject" in response.json()["detail"]


# ---------------------------------------------------------------------------- bases, trash, moves between disks
def test_admins_see_every_mounted_disk_and_move_between_them(loop_disks, media_root, files_root, admin):
    client = client_of(admin)
    mounted(loop_disks, "Data")
    mounted(loop_disks, "Other")
    (media_root / "Data" / "film.mkv").write_bytes(b"film")
    (files_root / "doc.txt").write_text("doc")
    page = client.get("/files/", {"path": "@Data"})
    assert page.status_code == 200 and 'href="?path=%40Other"' in page.content.decode()

    task = filetask_create(user=admin, kind="move", sources=["@Data/film.mkv"], destination="@Other")
    filetask_run(task=task)
    task = filetask_create(user=admin, kind="copy", sources=["doc.txt"], destination="@Data")
    filetask_run(task=task)
    assert (media_root / "Other" / "film.mkv").read_bytes() == b"film"
    assert not (media_root / "Data" / "film.mkv").exists() and (media_root / "Data" / "doc.txt").exists()

    (item,) = entries_trash(user=admin, paths=["@Other/film.mkv"])
    assert item.stored.startswith(str(media_root / "Other" / ".casaos-trash"))  # the trash stays on its disk
    assert trash_restore(user=admin, item=item) == "@Other/film.mkv"
    assert not TrashItem.objects.exists()


def test_moving_between_bases_does_not_follow_links_out(loop_disks, media_root, files_root, admin):
    client = client_of(admin)
    mounted(loop_disks, "Data")
    mounted(loop_disks, "Other")
    (media_root / "Data" / "box").mkdir()
    (media_root / "Data" / "box" / "to-root").symlink_to("/")
    (media_root / "Data" / "box" / "to-other").symlink_to(media_root / "Other")
    (media_root / "Other" / "private.txt").write_text("other disk")
    for link in ("to-root", "to-other"):
        assert client.get("/api/files/", {"path": f"@Data/box/{link}"}).status_code == 403
        assert client.get("/api/files/content/", {"path": f"@Data/box/{link}/private.txt"}).status_code == 403
    task = filetask_create(user=admin, kind="copy", sources=["@Data/box"], destination="")
    filetask_run(task=task)
    assert user_files(files_root / "box") == set()  # links leading out of the files root are left behind
    task = filetask_create(user=admin, kind="move", sources=["@Data/box"], destination="@Other")
    filetask_run(task=task)
    assert not (media_root / "Other" / "box" / "to-root").exists()
    assert (media_root / "Other" / "box" / "to-other").is_symlink()  # leads inside the Other disk from there


# ---------------------------------------------------------------------------- members and grants
@pytest.fixture
def member(db):
    return UserFactory(username="mia")


def grant(admin, member, path: str, name: str, access: str):
    response = post(
        client_of(admin), "/api/files/grants/", {"user": member.pk, "path": path, "name": name, "access": access}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_disk_folder_granted_to_a_member_read_or_write(loop_disks, media_root, files_root, admin, member):
    mount = mounted(loop_disks, "Data")
    (media_root / "Data" / "Films").mkdir()
    (media_root / "Data" / "Films" / "a.mkv").write_bytes(b"film")
    (media_root / "Data" / "Drop").mkdir()
    made = grant(admin, member, "@Data/Films", "Films", "read")
    assert (made["path"], made["disk"], made["place"]) == ("Films", f"mount:{mount.fs_uuid}", "@Data/Films")
    grant(admin, member, "@Data/Drop", "Drop", "write")
    client = client_of(member)
    names = {e["name"] for e in client.get("/api/files/", {"path": ""}).json()["entries"]}
    assert names == {"home", "Films", "Drop"}
    assert content(client, "Films/a.mkv") == b"film"
    assert newfile(client, "Films", "x.txt", "x").status_code == 403  # a read grant cannot write
    assert upload(client, "Films", "x.bin", b"x").status_code == 403
    assert post(client, "/api/files/delete/", {"paths": ["Films/a.mkv"]}).status_code == 403
    assert upload(client, "Drop", "in.bin", b"dropped").status_code == 204
    assert (media_root / "Data" / "Drop" / "in.bin").read_bytes() == b"dropped"

    client_of(admin).post(f"/api/storage/mounts/{mount.pk}/unmount/")
    names = {e["name"] for e in client.get("/api/files/", {"path": ""}).json()["entries"]}
    assert names == {"home"}  # gone from the view
    stale = client.get("/api/files/", {"path": "Drop"})
    assert stale.status_code == 409 and "“Data” of this folder is not mounted" in stale.json()["detail"]
    assert upload(client, "Drop", "late.bin", b"x").status_code == 409
    assert not (media_root / "Data").exists()

    mount_create(fs_uuid=mount.fs_uuid)  # the grant follows the disk, not the folder it was mounted at
    assert content(client, "Drop/in.bin") == b"dropped"
    assert FolderGrant.objects.count() == 2


BAD = [
    "@Data/secret.txt",
    "@Data",
    "../media/Data/secret.txt",
    "home/../../media/Data/secret.txt",
    "%40Data/secret.txt",
    "..%2fmedia%2fData/secret.txt",
    "\uff20Data/secret.txt",
]


def test_a_member_without_a_grant_reaches_no_disk_by_any_path(loop_disks, media_root, files_root, admin, member):
    mounted(loop_disks, "Data")
    (media_root / "Data" / "secret.txt").write_text("secret on the disk")
    (files_root / "link").symlink_to(media_root / "Data")
    client = client_of(member)
    client.get("/api/files/", {"path": ""})  # makes their home
    (files_root / "home" / "mia" / "to-disk").symlink_to(media_root / "Data")
    before = snapshot(media_root)
    for bad in [*BAD, str(media_root / "Data" / "secret.txt"), "link/secret.txt", "home/to-disk/secret.txt"]:
        for response in (
            client.get("/api/files/content/", {"path": bad}),
            client.get("/api/files/", {"path": bad}),
            client.get("/api/files/search/", {"path": bad, "q": "secret"}),
            newfile(client, bad, "x.txt", "x"),
            upload(client, bad, "x.bin", b"x"),
        ):
            assert 400 <= response.status_code < 500, (bad, response.status_code)
            assert b"secret on the disk" not in response.content
    assert snapshot(media_root) == before


def test_a_grant_on_a_disk_does_not_lead_to_another_disk_or_out(loop_disks, media_root, files_root, admin, member):
    mounted(loop_disks, "Data")
    mounted(loop_disks, "Other")
    (media_root / "Other" / "secret.txt").write_text("secret on the other disk")
    (media_root / "Data" / "Films").mkdir()
    (media_root / "Data" / "Films" / "to-other").symlink_to(media_root / "Other")
    (media_root / "Data" / "Films" / "to-root").symlink_to("/")
    (media_root / "Data" / "Films" / "up").symlink_to("..")
    grant(admin, member, "@Data/Films", "Films", "write")
    client = client_of(member)
    for path in ("Films/to-other/secret.txt", "Films/to-root/etc/hostname", "Films/up/Films", "Films/../Other"):
        response = client.get("/api/files/content/", {"path": path})
        assert response.status_code in (400, 403, 404) and b"secret" not in response.content
    assert post(client, "/api/files/move/", {"sources": ["Films/to-other"], "destination": "home"}).status_code == 202
    assert (media_root / "Other" / "secret.txt").exists()


def test_a_folder_swapped_for_a_link_after_the_check_fails_the_act(
    loop_disks, media_root, files_root, admin, monkeypatch
):
    mounted(loop_disks, "Data")
    mounted(loop_disks, "Other")
    (media_root / "Data" / "box").mkdir()
    (media_root / "Data" / "swap").symlink_to(media_root / "Other")
    original, swapped = paths.resolve_in, []

    def resolving(base, parts, *, follow=True):
        target = original(base, parts, follow=follow)
        if not swapped and "box" in target.resolved:
            exchange(media_root / "Data" / "box", media_root / "Data" / "swap")
            swapped.append(True)
        return target

    monkeypatch.setattr(paths, "resolve_in", resolving)
    response = newfile(client_of(admin), "@Data/box", "planted.txt", "x")
    assert swapped and response.status_code == 409
    assert user_files(media_root / "Other") == set()


def test_grants_of_disks_on_the_page_and_in_the_api(loop_disks, media_root, files_root, admin, member):
    mounted(loop_disks, "Data")
    grant(admin, member, "@Data", "Whole disk", "read")
    page = client_of(admin).get("/files/grants/").content.decode()
    assert "<code>@Data</code>" in page and '<option value="@Data">' in page
    listed = client_of(admin).get("/api/files/grants/").json()
    assert listed[0]["place"] == "@Data" and listed[0]["disk_name"] == "Data"
    assert user_files(media_root / "Data") == set()
    assert client_of(member).get("/api/files/", {"path": "Whole disk"}).status_code == 200


def test_a_disk_mounted_inside_the_files_root_is_reached_only_as_its_disk(loop_disks, files_root, admin, settings):
    inside = files_root / "media"
    inside.mkdir()
    settings.MEDIA_ROOT_DISKS = inside
    loop_disks.watched.append(str(inside))
    mounted(loop_disks, "Data")
    client = client_of(admin)
    assert client.get("/api/files/", {"path": "media"}).status_code == 200
    refused = newfile(client, "media/Data", "x.txt", "x")
    assert refused.status_code == 409 and "open it as @Data" in refused.json()["detail"]
    assert newfile(client, "@Data", "x.txt", "x").status_code == 200
    subprocess.run(["umount", "--", str(inside / "Data")], check=True)  # behind our back: the row stays
    assert newfile(client, "media/Data", "y.txt", "y").status_code == 409
    assert newfile(client, "@Data", "y.txt", "y").status_code == 409
    assert user_files(inside / "Data") == set()


def test_share_links_zips_and_thumbnails_of_a_disk_stop_with_it(loop_disks, media_root, files_root, admin):
    from PIL import Image

    from files.services import thumbnail_make

    client = client_of(admin)
    mounted(loop_disks, "Data")
    (media_root / "Data" / "Films").mkdir()
    (media_root / "Data" / "Films" / "a.txt").write_text("film notes")
    Image.new("RGB", (64, 48), "red").save(media_root / "Data" / "Films" / "red.png")
    share = post(client, "/api/files/shares/", {"path": "@Data/Films/a.txt"}).json()
    assert body(APIClient().get(f"/s/{share['token']}/download/")) == b"film notes"
    assert client.get("/api/files/zip/", {"path": "@Data/Films"}).status_code == 200
    assert thumbnail_make(real=media_root / "Data" / "Films" / "red.png") is not None  # what the worker runs

    subprocess.run(["umount", "--", str(media_root / "Data")], check=True)
    assert APIClient().get(f"/s/{share['token']}/download/").status_code == 404
    assert client.get("/api/files/zip/", {"path": "@Data/Films"}).status_code == 409
    with pytest.raises(paths.PathError) as refused:  # the worker's task, queued before the unmount
        thumbnail_make(real=media_root / "Data" / "Films" / "red.png")
    assert refused.value.status == 409
