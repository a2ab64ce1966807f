"""Fixtures of the file manager tests: a fresh files root per test, API clients, tree snapshots."""

import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from files import paths


@pytest.fixture
def root(tmp_path, settings):
    """A fresh files root (and a sibling "root-x" to catch prefix tricks, plus an outside secret)."""
    base = tmp_path / "root"
    base.mkdir()
    (tmp_path / "root-x").mkdir()
    (tmp_path / "root-x" / "sibling.txt").write_text("sibling")
    (tmp_path / "outside.txt").write_text("secret outside")
    settings.FILES_ROOT = base
    paths._protected.cache_clear()
    yield base
    paths._protected.cache_clear()


@pytest.fixture
def admin_api(admin_user, root):
    client = APIClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_api(member_user, root):
    client = APIClient()
    client.force_login(member_user)
    return client


def snapshot(top: Path) -> dict:
    """Every entry under `top` (the parent of the root, so outside files count too) with size and mtime."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            found[str(p.relative_to(top))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return found


def body(response) -> bytes:
    """The whole body of a (possibly async streaming) response."""
    if not getattr(response, "streaming", False):
        return response.content
    if not response.is_async:
        return b"".join(response.streaming_content)
    from asgiref.sync import async_to_sync

    async def collect():
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(collect)()
