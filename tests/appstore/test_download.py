"""Store zips as big as real ones: streamed to disk, bounded by a setting, and nothing left behind on a refusal."""

import hashlib
import os
import tracemalloc
import zipfile

import pytest

from appstore.fetch import FetchError, Limits, fetch
from appstore.models import CatalogApp
from appstore.sync import store_dir
from tests.appstore.conftest import ODD_STORE, make_store, sync

pytestmark = pytest.mark.django_db
MIB = 1024**2


def _random_file(path, size: int) -> None:
    with path.open("wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))


def _big_store_zip(store_server, name: str, padding: int) -> str:
    """The odd store zipped like GitHub does, plus `padding` bytes of incompressible screenshots, written in pieces."""
    url = store_server.publish_zip(ODD_STORE, name)
    with (
        zipfile.ZipFile(store_server.root / name, "a", zipfile.ZIP_STORED) as zf,
        zf.open("store-main/Apps/Hello/screenshot-big.png", "w", force_zip64=True) as entry,
    ):
        for _ in range(padding // MIB):
            entry.write(os.urandom(MIB))
    store_server.touch(name)
    return url


def _files_left(store) -> list[str]:
    return [str(p) for p in store_dir(store.pk).rglob("*") if p.is_file()]


def test_a_store_bigger_than_the_old_64_mib_limit_syncs_without_holding_the_zip_in_memory(store_server, allow_lan):
    url = _big_store_zip(store_server, "big.zip", 80 * MIB)
    store = make_store(url=url)
    tracemalloc.start()
    try:
        store = sync(store)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert store.status == "ok", store.error
    assert CatalogApp.objects.filter(store=store, store_app_id="hello").exists()
    assert peak < 24 * MIB, f"the sync held {peak / MIB:.0f} MiB"
    assert _files_left(store) == []  # the zip and its unpacked copy are gone; the catalogue is in the database


@pytest.mark.parametrize("path", ["", "nolength/"])
def test_the_size_bound_refuses_a_large_zip_and_leaves_no_file(store_server, allow_lan, settings, path):
    settings.APPSTORE_MAX_ARCHIVE = 2 * MIB
    _big_store_zip(store_server, "big.zip", 6 * MIB)
    store = sync(make_store(url=store_server.url(path + "big.zip")))
    assert store.status == "error" and ("limit of 2.0 MiB" in store.error or "limit is 2.0 MiB" in store.error)
    assert store.app_count == 0 and _files_left(store) == []


def test_a_download_that_breaks_off_leaves_no_file(store_server, allow_lan):
    _big_store_zip(store_server, "big.zip", 4 * MIB)
    store = sync(make_store(url=store_server.url("broken/big.zip")))
    assert store.status == "error" and "broke off" in store.error
    assert _files_left(store) == []


def test_the_unpacked_size_and_file_count_guards_still_hold(store_server, allow_lan, settings):
    settings.APPSTORE_MAX_UNPACKED = 3 * MIB
    store = sync(make_store(url=_big_store_zip(store_server, "big.zip", 4 * MIB)))
    assert store.status == "error" and "unpacks to more than the limit" in store.error
    settings.APPSTORE_MAX_UNPACKED = 1024**3
    settings.APPSTORE_MAX_ENTRIES = 5
    store = sync(store)
    assert store.status == "error" and "more than 5 entries" in store.error
    assert _files_left(store) == []


def test_fetch_writes_chunk_by_chunk_and_names_the_file_only_when_complete(store_server, tmp_path):
    _random_file(store_server.root / "blob.bin", 24 * MIB)
    (tmp_path / "downloads").mkdir()
    dest = tmp_path / "downloads" / "blob.zip"
    seen_parts = []
    tracemalloc.start()
    try:
        download = fetch(
            store_server.url("nolength/blob.bin"),
            allow_lan=True,
            limits=Limits(max_bytes=64 * MIB),
            dest=dest,
            on_progress=lambda size, total: seen_parts.append(dest.with_name("blob.zip.part").exists()),
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB and download.body is None and download.size == 24 * MIB
    assert all(seen_parts) and not dest.with_name("blob.zip.part").exists()  # written as .part, renamed at the end
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == download.sha256
    with pytest.raises(FetchError, match="larger than the limit"):
        fetch(store_server.url("nolength/blob.bin"), allow_lan=True, limits=Limits(max_bytes=MIB), dest=dest)
    assert list(dest.parent.iterdir()) == [dest]  # the refused second download left nothing, not even a .part
