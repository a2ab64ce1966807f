"""Copy/move tasks (progress, cancel, conflict policy), trash, extract and compress, thumbnails."""

import io
import tarfile
import zipfile

import pytest

from files.models import FileTask, TrashItem
from files.services import archive_run, entries_trash, filetask_create, filetask_run, trash_restore
from files.services.transfer import Progress
from tests.files.conftest import snapshot


@pytest.fixture
def tree(root):
    (root / "src").mkdir()
    (root / "src" / "big.bin").write_bytes(b"x" * (3 * 1024 * 1024))
    (root / "src" / "sub").mkdir()
    (root / "src" / "sub" / "small.txt").write_text("small")
    (root / "dst").mkdir()
    return root


def _run(task: FileTask) -> FileTask:
    (archive_run if task.kind in ("extract", "compress") else filetask_run)(task=task)
    task.refresh_from_db()
    return task


def test_copy_reports_bytes_and_files(admin_user, tree, django_capture_on_commit_callbacks):
    task = filetask_create(user=admin_user, kind="copy", sources=["src"], destination="dst")
    task = _run(task)
    assert task.status == "done", task.error
    assert (task.bytes_done, task.files_done) == (task.bytes_total, task.files_total) == (3 * 1024 * 1024 + 5, 2)
    assert (tree / "dst" / "src" / "sub" / "small.txt").read_text() == "small"
    assert (tree / "src" / "big.bin").exists()


def test_conflict_policies(admin_user, tree):
    (tree / "dst" / "big.bin").write_text("old")
    for policy, expect in (("skip", "old"), ("keep_both", "old"), ("overwrite", "x" * 3 * 1024 * 1024)):
        task = _run(
            filetask_create(user=admin_user, kind="copy", sources=["src/big.bin"], destination="dst", conflict=policy)
        )
        assert task.status == "done"
        assert (tree / "dst" / "big.bin").read_text() == expect
    assert (tree / "dst" / "big (1).bin").exists()


def test_a_move_on_one_disk_is_a_rename(admin_user, tree):
    inode = (tree / "src" / "big.bin").stat().st_ino
    task = _run(filetask_create(user=admin_user, kind="move", sources=["src"], destination="dst"))
    assert task.status == "done"
    assert (tree / "dst" / "src" / "big.bin").stat().st_ino == inode and not (tree / "src").exists()


def test_cancel_stops_the_copy_and_leaves_no_half_written_file(admin_user, tree, monkeypatch):
    task = filetask_create(user=admin_user, kind="copy", sources=["src/big.bin"], destination="dst")
    original = Progress.add

    def cancel_midway(self, *, nbytes=0, files=0):
        original(self, nbytes=nbytes, files=files)
        if self.task.bytes_done and not self.task.cancel_requested:
            FileTask.objects.filter(pk=self.task.pk).update(cancel_requested=True)
            self.task.cancel_requested = True
            self.flush()

    monkeypatch.setattr(Progress, "add", cancel_midway)
    monkeypatch.setattr("files.services.transfer.STEP", 1024 * 1024)
    task = _run(task)
    assert task.status == "cancelled"
    assert list((tree / "dst").iterdir()) == []


def test_trash_and_restore(admin_user, tree):
    before = {k for k in snapshot(tree) if not k.startswith(".casaos")}
    [item] = entries_trash(user=admin_user, paths=["src/sub"])
    assert not (tree / "src" / "sub").exists() and TrashItem.objects.count() == 1
    assert trash_restore(user=admin_user, item=item) == "src/sub"
    assert {k for k in snapshot(tree) if not k.startswith(".casaos")} == before
    assert not TrashItem.objects.exists()
    assert (tree / "src" / "sub" / "small.txt").read_text() == "small"


def test_another_user_cannot_restore_my_trash(admin_user, member_user, tree):
    from files.paths import PathError

    [item] = entries_trash(user=admin_user, paths=["src/sub"])
    with pytest.raises(PathError):
        trash_restore(user=member_user, item=item)


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo("link")
            info.external_attr = 0o120777 << 16
            zf.writestr(info, symlink)
    return buf.getvalue()


def test_extract_unpacks_a_good_archive(admin_user, tree):
    from files.services import extract_create

    (tree / "good.zip").write_bytes(_zip({"a/b.txt": b"hello", "c.txt": b"c"}))
    task = _run(extract_create(user=admin_user, path="good.zip", destination="dst"))
    assert task.status == "done", task.error
    assert (tree / "dst" / "a" / "b.txt").read_text() == "hello"
    assert not [p for p in (tree / "dst").iterdir() if p.name.startswith(".casaos")]


@pytest.mark.parametrize(
    "archive",
    [
        _zip({"../evil.txt": b"x"}),
        _zip({"/abs.txt": b"x"}),
        _zip({"ok.txt": b"x"}, symlink="/etc/passwd"),
        _zip({"bomb.txt": b"\0" * (50 * 1024 * 1024)}),
    ],
)
def test_extract_refuses_traversal_links_and_bombs(admin_user, tree, archive):
    from files.services import extract_create

    (tree / "bad.zip").write_bytes(archive)
    before = snapshot(tree.parent)
    task = _run(extract_create(user=admin_user, path="bad.zip", destination="dst"))
    assert task.status == "failed" and task.error
    assert snapshot(tree.parent) == before


def test_extract_refuses_tar_links_pointing_out_and_devices(admin_user, tree):
    from files.services import extract_create

    for kind in (tarfile.SYMTYPE, tarfile.CHRTYPE):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            info = tarfile.TarInfo("x")
            info.type, info.linkname = kind, "../../../etc/passwd"
            tf.addfile(info)
        (tree / "bad.tar").write_bytes(buf.getvalue())
        before = snapshot(tree.parent)
        task = _run(extract_create(user=admin_user, path="bad.tar", destination="dst"))
        assert task.status == "failed"
        assert snapshot(tree.parent) == before


def _tar(*members: tuple[str, str]) -> bytes:
    """A tar of (name, link text) members: a link where there is a text, else a small file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tf.addfile(info)
            else:
                info.size = 1
                tf.addfile(info, io.BytesIO(b"x"))
    return buf.getvalue()


@pytest.mark.parametrize(
    "members",
    [
        # Each link alone stays inside; through the first, the second climbs three folders from dst: out of the root.
        (("a", "."), ("b", "a/a/a/../../../outside.txt")),
        (("l", "sub"), ("l/x.txt", "")),  # a file written through a link of the archive
        (("self", "self/x"),),
    ],
    ids=["chain", "through", "loop"],
)
def test_extract_refuses_links_that_lead_out_together_or_are_written_through(admin_user, tree, members):
    from files.services import extract_create

    (tree / "dst" / "deep").mkdir()
    (tree / "bad.tar").write_bytes(_tar(*members))
    before = snapshot(tree.parent)
    task = _run(extract_create(user=admin_user, path="bad.tar", destination="dst/deep"))
    assert task.status == "failed" and "link" in task.error
    assert snapshot(tree.parent) == before


def test_extract_keeps_links_that_stay_inside_the_archive(admin_user, tree):
    from files.services import extract_create

    (tree / "good.tar").write_bytes(_tar(("sub/f.txt", ""), ("up/to", "../sub/f.txt"), ("here", "sub")))
    task = _run(extract_create(user=admin_user, path="good.tar", destination="dst"))
    assert task.status == "done", task.error
    assert (tree / "dst" / "up" / "to").read_text() == "x" and (tree / "dst" / "here" / "f.txt").read_text() == "x"


def test_a_copied_link_is_judged_from_where_the_copy_lands(admin_user, tree):
    # From src/deep the first link reaches src/sub/small.txt; copied two folders higher, the same text leads out of
    # the root, and is left behind. The second leads to the root's src/sub from anywhere (absolute).
    (tree / "src" / "deep").mkdir()
    (tree / "src" / "deep" / "up").symlink_to("../../src/sub/small.txt")
    (tree / "src" / "deep" / "abs").symlink_to(tree / "src" / "sub")
    task = _run(filetask_create(user=admin_user, kind="copy", sources=["src/deep/up", "src/deep/abs"], destination=""))
    assert task.status == "done", task.error
    assert not (tree / "up").is_symlink()
    assert (tree / "abs" / "small.txt").read_text() == "small"
    task = _run(filetask_create(user=admin_user, kind="copy", sources=["src/deep"], destination="dst"))
    assert (tree / "dst" / "deep" / "up").read_text() == "small"  # the same depth: it still leads inside


def test_a_name_taken_between_the_look_and_the_rename_moves_on_to_the_next(admin_user, tree, monkeypatch):
    from files.services import common, compress_create

    original = common.free_name

    def racing(dir_fd, name):
        free = original(dir_fd, name)
        if free == "pack.zip":
            (tree / "dst" / free).write_text("someone else's")  # made by another client right after the look
        return free

    monkeypatch.setattr(common, "free_name", racing)
    task = _run(compress_create(user=admin_user, paths=["src"], destination="dst", name="pack"))
    assert task.status == "done", task.error
    assert (tree / "dst" / "pack.zip").read_text() == "someone else's"
    assert zipfile.ZipFile(tree / "dst" / "pack (1).zip").read("src/sub/small.txt") == b"small"


def test_compress_writes_a_zip_of_the_selection(admin_user, tree):
    from files.services import compress_create

    task = _run(compress_create(user=admin_user, paths=["src"], destination="dst", name="pack"))
    assert task.status == "done", task.error
    archive = zipfile.ZipFile(tree / "dst" / "pack.zip")
    assert archive.read("src/sub/small.txt") == b"small"


def test_thumbnails_refuse_decompression_bombs(tree, settings):
    from PIL import Image

    from files.services import thumbnail_make

    Image.new("RGB", (800, 600), "red").save(tree / "ok.png")
    thumb = thumbnail_make(real=tree / "ok.png")
    assert thumb is not None and max(Image.open(thumb).size) <= 320
    settings.FILES_THUMBNAIL_MAX_PIXELS = 1000
    Image.new("RGB", (100, 100), "red").save(tree / "bomb.png")
    assert thumbnail_make(real=tree / "bomb.png") is None
