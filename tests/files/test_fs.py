"""files/fs.py: opening beneath a directory descriptor never goes through a symlink, links are followed only while
they stay beneath the base, and a folder swapped for a link in a tight loop never lets a write out. Every test runs
with openat2 and with the O_NOFOLLOW component walk of kernels without it."""

import errno
import os
import stat
import threading
import time

import pytest

from files import fs
from tests.files.conftest import exchange


@pytest.fixture(params=["openat2", "walk"])
def resolver(request, monkeypatch):
    if request.param == "openat2" and not fs.OPENAT2:
        pytest.skip("this kernel has no openat2")
    monkeypatch.setattr(fs, "OPENAT2", request.param == "openat2")
    return request.param


@pytest.fixture
def base(tmp_path, resolver):
    """<tmp>/base with a/b/c.txt, and <tmp>/outside with a secret."""
    top = tmp_path / "base"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "c.txt").write_text("inside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "c.txt").write_text("secret")
    fd = os.open(top, fs.PATH_DIR)
    yield top, fd
    os.close(fd)


def _resolve(base, *parts, follow=True):
    top, fd = base
    return fs.resolve_links(fd, parts, follow_last=follow, base_real=str(top))


def test_it_opens_plain_names_and_refuses_a_link_anywhere_on_the_way(base):
    top, fd = base
    with fs.held(fs.open_beneath(fd, ("a", "b", "c.txt"), fs.READ)) as f:
        assert os.read(f, 100) == b"inside"
    (top / "inside-link").symlink_to("a")
    (top / "a" / "c-link").symlink_to("b/c.txt")
    for parts in (("inside-link", "b", "c.txt"), ("a", "c-link")):
        with pytest.raises(OSError) as exc:
            fs.open_beneath(fd, parts, fs.READ)
        assert exc.value.errno == errno.ELOOP
    # With O_PATH the last part may be the link itself (rename and delete act on it, never its target).
    with fs.held(fs.open_beneath(fd, ("a", "c-link"))) as link:
        assert stat.S_ISLNK(os.fstat(link).st_mode)


def test_a_link_where_a_folder_is_opened_is_eloop_like_anywhere_on_the_way(base):
    # The kernel says ENOTDIR for a link as the last part of a folder to open; a caller must tell "a folder was
    # swapped for a link" from "this is a file", so it is ELOOP, as on the way.
    top, fd = base
    (top / "a" / "to-b").symlink_to("b")
    with pytest.raises(OSError) as exc:
        fs.open_beneath(fd, ("a", "to-b"), fs.PATH_DIR)
    assert exc.value.errno == errno.ELOOP
    with pytest.raises(NotADirectoryError):
        fs.open_beneath(fd, ("a", "b", "c.txt"), fs.PATH_DIR)


@pytest.mark.parametrize("parts", [("..",), ("a", ".."), ("a/b",), ("",), (".",)])
def test_it_refuses_anything_but_plain_names(base, parts):
    with pytest.raises(ValueError):
        fs.open_beneath(base[1], parts)


def test_it_follows_links_that_stay_beneath_the_base(base):
    top, _fd = base
    (top / "rel").symlink_to("a/b")
    (top / "abs").symlink_to(top / "a")
    (top / "a" / "up").symlink_to("../a/b/c.txt")
    (top / "chain").symlink_to("rel")
    assert _resolve(base, "rel", "c.txt") == ("a", "b", "c.txt")
    assert _resolve(base, "abs", "b") == ("a", "b")
    assert _resolve(base, "a", "up") == ("a", "b", "c.txt")
    assert _resolve(base, "chain") == ("a", "b")
    assert _resolve(base, "chain", follow=False) == ("chain",)
    assert _resolve(base, "a", "missing", "deeper") == ("a", "missing", "deeper")  # created later, or a 404


@pytest.mark.parametrize(
    "link",
    ["../outside", "../../outside", "a/../../outside", "{top}/../outside", "{tmp}/outside", "/etc", "a/../.."],
)
def test_it_refuses_links_leading_out(base, link):
    top, _fd = base
    (top / "out").symlink_to(link.format(top=top, tmp=top.parent))
    with pytest.raises(fs.LinkOut):
        _resolve(base, "out", "c.txt")
    with pytest.raises(fs.LinkOut):
        _resolve(base, "out")
    assert _resolve(base, "out", follow=False) == ("out",)  # the link itself stays reachable


def test_it_stops_at_a_loop(base):
    top, _fd = base
    (top / "x").symlink_to("y")
    (top / "y").symlink_to("x")
    with pytest.raises(OSError) as exc:
        _resolve(base, "x")
    assert exc.value.errno == errno.ELOOP


def test_make_dirs_makes_what_is_missing_and_refuses_a_link_on_the_way(base):
    top, fd = base
    os.close(fs.make_dirs(fd, ("a", "new", "deeper")))
    assert (top / "a" / "new" / "deeper").is_dir()
    (top / "escape").symlink_to(top.parent / "outside")
    with pytest.raises(OSError) as exc:
        fs.make_dirs(fd, ("escape", "made"))
    assert exc.value.errno == errno.ELOOP
    assert not (top.parent / "outside" / "made").exists()


def test_without_openat2_the_component_walk_takes_over(monkeypatch):
    def enosys(*args):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(fs, "_openat2", enosys)
    assert fs._has_openat2() is False


def test_a_folder_swapped_for_a_link_in_a_tight_loop_never_lets_a_write_out(base):
    """The attack of issue 12.6 at the level of the resolver: creations race a folder that keeps trading places
    with a link to an outside folder."""
    top, fd = base
    (top / "box").mkdir()
    (top / "swap").symlink_to(top.parent / "outside")
    stop = threading.Event()

    def swapper():
        while not stop.is_set():
            exchange(top / "box", top / "swap")

    thread = threading.Thread(target=swapper)
    thread.start()
    made = refused = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                parts = _resolve(base, "box", f"f{made + refused}")
                os.close(fs.open_beneath(fd, parts, fs.CREATE, 0o600))
                os.close(fs.make_dirs(fd, ("box", f"d{made + refused}")))
                made += 1
            except (OSError, fs.LinkOut):
                refused += 1
    finally:
        stop.set()
        thread.join()
    assert sorted(p.name for p in (top.parent / "outside").iterdir()) == ["c.txt"]
    assert made and refused, (made, refused)  # both sides of the race were met
