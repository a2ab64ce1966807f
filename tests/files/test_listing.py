"""GET /api/files/: folders first, every sort key both ways, paging over the whole folder, hidden entries,
links shown but not followed out of the root."""

import os

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(root):
    top = root / "box"
    top.mkdir()
    files = {"b.txt": 300, "a.jpg": 100, "C.txt": 200, ".hidden": 1}
    for i, (name, size) in enumerate(files.items()):
        (top / name).write_bytes(b"x" * size)
        os.utime(top / name, (1_700_000_000 + i, 1_700_000_000 + i))  # created in this order
    (top / "zdir").mkdir()
    (top / "Adir").mkdir()
    (top / "link-out").symlink_to("/etc")
    (top / "link-in").symlink_to(top / "zdir")
    return top


def _names(admin_api, **params) -> list[str]:
    response = admin_api.get("/api/files/", {"path": "box", **params})
    assert response.status_code == 200, response.content
    return [e["name"] for e in response.json()["entries"]]


def test_folders_come_first_and_each_sort_key_orders_the_rest(admin_api, folder):
    # Folders (and a link to a folder inside the root) first; the link out of the root is never followed.
    assert _names(admin_api) == ["Adir", "link-in", "zdir", "a.jpg", "b.txt", "C.txt", "link-out"]
    assert _names(admin_api, sort="size")[3:] == ["link-out", "a.jpg", "C.txt", "b.txt"]  # a link: its own size
    assert _names(admin_api, sort="modified")[3:] == ["b.txt", "a.jpg", "C.txt", "link-out"]
    assert _names(admin_api, sort="type")[3:] == ["link-out", "a.jpg", "b.txt", "C.txt"]
    assert _names(admin_api, reverse="1") == list(reversed(_names(admin_api)))


def test_entries_carry_what_the_page_shows(admin_api, folder):
    entries = {e["name"]: e for e in admin_api.get("/api/files/", {"path": "box"}).json()["entries"]}
    assert entries["b.txt"]["size"] == 300 and entries["b.txt"]["modified"] == 1_700_000_000
    assert entries["b.txt"]["path"] == "box/b.txt" and entries["b.txt"]["mime"] == "text/plain"
    assert entries["zdir"]["is_dir"] and entries["zdir"]["size"] == 0
    assert entries["link-out"]["is_link"] and entries["link-out"]["link_outside"]
    assert not entries["link-out"]["is_dir"]  # shown, never followed
    assert entries["link-in"]["is_link"] and not entries["link-in"]["link_outside"] and entries["link-in"]["is_dir"]


def test_hidden_entries_only_when_asked(admin_api, folder):
    assert ".hidden" not in _names(admin_api)
    assert ".hidden" in _names(admin_api, hidden="1")


def test_pages_cover_the_whole_folder_once_in_order(admin_api, root):
    big = root / "big"
    big.mkdir()
    for i in range(2500):
        (big / f"f{i:05d}").write_bytes(b"")
    (big / "sub").mkdir()
    seen, page = [], 1
    while True:
        listing = admin_api.get("/api/files/", {"path": "big", "page": page, "page_size": 1000}).json()
        assert (listing["count"], listing["pages"], listing["page"]) == (2501, 3, page)
        seen += [e["name"] for e in listing["entries"]]
        if page == listing["pages"]:
            break
        page += 1
    assert seen == ["sub", *(f"f{i:05d}" for i in range(2500))]
    too_big = admin_api.get("/api/files/", {"path": "big", "page_size": 5000}).json()
    assert too_big["page_size"] == 1000 and len(too_big["entries"]) == 1000


def test_bad_sort_and_paging_values_are_refused(admin_api, folder):
    assert admin_api.get("/api/files/", {"path": "box", "sort": "owner"}).status_code == 400
    assert admin_api.get("/api/files/", {"path": "box", "page": "x"}).status_code == 400
