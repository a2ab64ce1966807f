"""Hostile stores: traversal, links, bombs, non-zips, SSRF. Each refusal leaves nothing behind."""

import io
import stat
import zipfile

import pytest

from appstore.addresses import address_allowed
from appstore.archive import ArchiveError, ArchiveLimits, extract_zip
from appstore.fetch import FetchError, Limits, fetch
from appstore.models import AppstoreSettings, CatalogApp, Store
from appstore.services import StoreError
from tests.appstore.conftest import ODD_STORE, make_store, sync

LIMITS = ArchiveLimits(max_unpacked=10 * 1024**2, max_entries=1000)


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def link_entry(name, target):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize(
    "name", ["../evil.txt", "store/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt", "store\\..\\evil.txt"]
)
def test_it_refuses_traversal(tmp_path, name):
    archive = write_zip(tmp_path / "a.zip", [("store/Apps/ok.txt", b"ok"), (name, b"evil")])
    with pytest.raises(ArchiveError, match=r"outside|forbidden"):
        extract_zip(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_it_refuses_links(tmp_path):
    archive = write_zip(tmp_path / "a.zip", [link_entry("store/Apps/x", "/etc/passwd")])
    with pytest.raises(ArchiveError, match="link"):
        extract_zip(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists()


def test_it_refuses_zip_bombs(tmp_path):
    archive = write_zip(tmp_path / "a.zip", [("store/bomb.txt", b"\0" * (20 * 1024**2))])
    with pytest.raises(ArchiveError, match=r"zip bomb|limit"):
        extract_zip(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists()


def test_it_refuses_too_many_entries(tmp_path):
    archive = write_zip(tmp_path / "a.zip", [(f"f{i}", b"x") for i in range(20)])
    with pytest.raises(ArchiveError, match="entries"):
        extract_zip(archive, tmp_path / "out", ArchiveLimits(max_unpacked=10**6, max_entries=10))


def test_it_refuses_what_is_not_a_zip(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"<html>hello</html>")
    with pytest.raises(ArchiveError, match="not a zip"):
        extract_zip(tmp_path / "a.zip", tmp_path / "out", LIMITS)


@pytest.mark.django_db
def test_a_store_zip_with_traversal_writes_nothing_and_keeps_the_catalogue(store_server, allow_lan, appstore_dir):
    url = store_server.publish_zip(ODD_STORE, "odd.zip")
    store = sync(make_store(url=url))
    before = set(CatalogApp.objects.filter(store=store).values_list("pk", "content_hash"))
    buf = io.BytesIO()
    write_zip(buf, [("store/Apps/Hello/docker-compose.yml", b"name: x"), ("store/../../escaped.txt", b"evil")])
    store_server.put("odd.zip", buf.getvalue())
    store = sync(store)
    assert store.status == Store.Status.ERROR and "path traversal" in store.error
    assert set(CatalogApp.objects.filter(store=store).values_list("pk", "content_hash")) == before
    assert not list(appstore_dir.rglob("escaped.txt"))
    assert not any(p.name.startswith("incoming") for p in (appstore_dir / "stores" / str(store.pk)).iterdir())


# ---------------------------------------------------------------------------- SSRF
@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.1.10", False),
        ("172.16.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("fd00::1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
    ],
)
def test_it_tells_public_addresses_from_internal_ones(address, public):
    assert address_allowed(address, allow_lan=False) is public


@pytest.mark.django_db
def test_it_refuses_loopback_stores_unless_lan_stores_are_allowed(store_server):
    assert not AppstoreSettings.load().allow_lan_stores
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip")))
    assert store.status == Store.Status.ERROR
    assert "local or private address" in store.error
    assert store_server.requests == []  # refused before a single byte was sent
    assert store.apps.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_name_that_resolves_to_loopback(store_server):
    url = store_server.publish_zip(ODD_STORE, "odd.zip").replace("127.0.0.1", "localhost")
    store = sync(make_store(url=url))
    assert store.status == Store.Status.ERROR and "local or private address" in store.error
    assert store_server.requests == []


def test_it_refuses_redirects_to_other_schemes(store_server):
    with pytest.raises(FetchError, match="only http and https"):
        fetch(store_server.url("redirect/file:///etc/passwd"), allow_lan=True, limits=Limits(max_bytes=1000))


def test_it_follows_redirects_and_checks_each_hop(store_server):
    store_server.put("target.txt", b"hello")
    got = fetch(store_server.url("redirect//target.txt"), allow_lan=True, limits=Limits(max_bytes=1000))
    assert got.body == b"hello"


def test_it_stops_downloads_over_the_size_limit(store_server):
    store_server.put("big.bin", b"x" * 5000)
    with pytest.raises(FetchError, match=r"too large|larger"):
        fetch(store_server.url("big.bin"), allow_lan=True, limits=Limits(max_bytes=1000))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/store.zip",
        "gopher://x",
        "javascript:x",
        "http://user:pw@example.com/a.zip",
    ],
)
def test_it_refuses_store_urls_that_are_not_plain_http(url):
    count = Store.objects.count()
    with pytest.raises(StoreError):
        make_store(url=url)
    assert Store.objects.count() == count


@pytest.mark.django_db
def test_it_refuses_relative_and_missing_folders(tmp_path, allow_lan):
    count = Store.objects.count()
    for path in ["relative/folder", str(tmp_path / "missing")]:
        with pytest.raises(StoreError):
            make_store(path=path)
    assert Store.objects.count() == count


@pytest.mark.django_db
def test_a_compose_bomb_in_a_store_is_listed_as_a_problem_and_the_rest_imports(store_server, allow_lan):
    from tests.attacks.payloads import LAUGHS

    bomb = (LAUGHS + "name: bomb\nservices:\n  web:\n    image: busybox\nx-casaos:\n  title: {en_us: Bomb}\n").encode()
    url = store_server.publish_zip(ODD_STORE, "bomb.zip", extra={"Apps/Bomb/docker-compose.yml": bomb})
    store = sync(make_store(url=url))
    assert store.status == Store.Status.OK and store.app_count == 6
    reasons = {p["app"]: p["reason"] for p in store.problems}
    assert "aliases are expanded" in reasons["Bomb"]
    assert not CatalogApp.objects.filter(store_app_id="bomb").exists()
