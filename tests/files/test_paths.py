"""The one resolver: every traversal form is refused, symlinks leading out are not followed, our own data is
never reachable even when the root is set above it."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from files import paths
from files.paths import PathError, check_name, resolve

TRAVERSALS = [
    "../outside.txt",
    "a/../../outside.txt",
    "/etc/passwd",
    "..",
    "x\x00y",
    "\uff0e\uff0e/outside.txt",
    "..\uff0foutside.txt",
    ".casaos-trash",
    "../root-x/sibling.txt",
    "C:/windows",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_it_refuses_every_traversal_form(admin_user, root, path):
    with pytest.raises(PathError) as exc:
        resolve(admin_user, path)
    assert 400 <= exc.value.status < 500


def test_it_refuses_a_symlink_leading_outside(admin_user, root):
    (root / "escape").symlink_to(root.parent / "outside.txt")
    (root / "sibling").symlink_to(root.parent / "root-x")
    for path in ("escape", "sibling/sibling.txt"):
        with pytest.raises(PathError) as exc:
            resolve(admin_user, path)
        assert exc.value.status == 403
    # Not followed, but the link itself may be acted on (renamed, deleted).
    assert resolve(admin_user, "escape", follow=False).real == root / "escape"


def test_it_follows_a_symlink_that_stays_inside(admin_user, root):
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real")
    assert resolve(admin_user, "alias").real == root / "real"


@pytest.mark.parametrize("name", ["", " ", ".", "..", "a/b", "\uff0e\uff0e", "x" * 256, ".casaos-x", "a\x00"])
def test_it_refuses_bad_names(name):
    with pytest.raises(PathError):
        check_name(name)


def test_our_data_dir_and_code_stay_unreachable_when_the_root_is_above_them(admin_user, settings):
    settings.FILES_ROOT = Path("/")  # above everything: the data dir and the code lie below it
    paths._protected.cache_clear()
    try:
        data = os.path.relpath(settings.DATA_DIR, settings.FILES_ROOT)
        code = os.path.relpath(settings.BASE_DIR, settings.FILES_ROOT)
        for path in (data, f"{data}/secret_key", code, f"{code}/manage.py"):
            with pytest.raises(PathError) as exc:
                resolve(admin_user, path)
            assert exc.value.status == 403
    finally:
        paths._protected.cache_clear()


def test_a_root_equal_to_the_data_dir_exposes_nothing(admin_user, settings):
    settings.FILES_ROOT = settings.DATA_DIR
    paths._protected.cache_clear()
    try:
        with pytest.raises(PathError):
            resolve(admin_user, "secret_key")
    finally:
        paths._protected.cache_clear()


def test_the_default_root_inside_the_data_dir_works(admin_user, db):
    paths._protected.cache_clear()
    assert resolve(admin_user, "").real == paths.files_root()
    assert paths.files_root().is_relative_to(settings.DATA_DIR)


def test_a_member_sees_only_home_and_grants(member_user, admin_user, root):
    from files.models import FolderGrant

    (root / "media").mkdir()
    (root / "home" / "admin").mkdir(parents=True)
    assert resolve(member_user, "home").real == root / "home" / "member"
    for path in ("media", "home/../admin", "", "admin"):
        with pytest.raises(PathError):
            resolve(member_user, path)
    FolderGrant.objects.create(user=member_user, path="media", name="Media", access="read")
    target = resolve(member_user, "Media")
    assert target.real == root / "media"
    with pytest.raises(PathError) as exc:
        target.require_writable()
    assert exc.value.status == 403
