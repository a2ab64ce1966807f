"""Every verb x every traversal form: a clear 4xx and an unchanged tree (SECURITY.md lesson 5)."""

import pytest

from files.models import FileTask, ShareLink, TrashItem, Upload
from tests.files.conftest import snapshot

BAD = [
    "../outside.txt",
    "../../etc/passwd",
    "/etc/passwd",
    "%2e%2e/outside.txt",
    "..%2foutside.txt",
    "a/\x00b",
    "../root-x/sibling.txt",
    "\uff0e\uff0e/outside.txt",
    "escape/x",
    ".casaos-trash/1",
]


def _verbs(bad: str) -> list[tuple[str, str, dict]]:
    return [
        ("get", "/api/files/", {"path": bad}),
        ("get", "/api/files/info/", {"path": bad}),
        ("get", "/api/files/size/", {"path": bad}),
        ("get", "/api/files/search/", {"path": bad, "q": "o"}),
        ("get", "/api/files/content/", {"path": bad}),
        ("get", "/api/files/text/", {"path": bad}),
        ("get", "/api/files/zip/", {"path": bad}),
        ("get", "/api/files/thumbnail/", {"path": bad}),
        ("put", f"/api/files/content/?path={bad}", {"content": "x"}),
        ("post", "/api/files/mkdir/", {"path": bad, "name": "n"}),
        ("post", "/api/files/mkdir/", {"path": "", "name": bad}),
        ("post", "/api/files/newfile/", {"path": bad, "name": "n"}),
        ("post", "/api/files/rename/", {"path": bad, "name": "n"}),
        ("post", "/api/files/rename/", {"path": "docs/a.txt", "name": bad}),
        ("post", "/api/files/copy/", {"sources": [bad], "destination": ""}),
        ("post", "/api/files/copy/", {"sources": ["docs/a.txt"], "destination": bad}),
        ("post", "/api/files/move/", {"sources": [bad], "destination": "docs"}),
        ("post", "/api/files/move/", {"sources": ["docs/a.txt"], "destination": bad}),
        ("post", "/api/files/delete/", {"paths": [bad]}),
        ("post", "/api/files/delete/", {"paths": ["docs/a.txt", bad]}),
        ("post", "/api/files/extract/", {"path": bad, "destination": ""}),
        ("post", "/api/files/extract/", {"path": "docs/a.zip", "destination": bad}),
        ("post", "/api/files/compress/", {"paths": [bad], "destination": "", "name": "z"}),
        ("post", "/api/files/shares/", {"path": bad}),
        ("post", "/api/files/permissions/", {"path": bad, "mode": "777"}),
    ]


@pytest.fixture
def tree(root):
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text("a")
    (root / "docs" / "a.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (root / "escape").symlink_to(root.parent / "outside.txt")
    return root


@pytest.mark.parametrize("bad", BAD)
def test_it_refuses_every_verb_with_every_traversal_form(admin_api, tree, bad):
    before = snapshot(tree.parent)
    for method, url, data in _verbs(bad):
        call = getattr(admin_api, method)
        response = call(url, data) if method == "get" else call(url, data, format="json")
        assert 400 <= response.status_code < 500, (method, url, data, response.status_code)
        assert "secret outside" not in response.content.decode(errors="ignore")
    raw = admin_api.get("/api/files/content/?path=%2e%2e%2foutside.txt")  # encoded once in the URL itself
    assert raw.status_code == 400
    assert snapshot(tree.parent) == before
    assert not FileTask.objects.exists() and not ShareLink.objects.exists() and not TrashItem.objects.exists()
    assert not Upload.objects.exists()


@pytest.mark.parametrize("bad", BAD)
def test_it_refuses_tus_uploads_into_a_traversal(admin_api, tree, bad):
    import base64

    before = snapshot(tree.parent)
    meta = f"filename {base64.b64encode(b'x.txt').decode()},path {base64.b64encode(bad.encode()).decode()}"
    response = admin_api.post(
        "/api/files/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1", HTTP_UPLOAD_METADATA=meta
    )
    assert 400 <= response.status_code < 500
    assert snapshot(tree.parent) == before and not Upload.objects.exists()


def test_it_refuses_moving_a_folder_into_itself(admin_api, tree):
    (tree / "docs" / "sub").mkdir()
    before = snapshot(tree.parent)
    for dest in ("docs", "docs/sub"):
        response = admin_api.post("/api/files/move/", {"sources": ["docs"], "destination": dest}, format="json")
        assert response.status_code == 400
    assert snapshot(tree.parent) == before and not FileTask.objects.exists()


def test_it_refuses_renaming_onto_an_existing_entry(admin_api, tree):
    (tree / "docs" / "b.txt").write_text("b")
    before = snapshot(tree.parent)
    response = admin_api.post("/api/files/rename/", {"path": "docs/a.txt", "name": "b.txt"}, format="json")
    assert response.status_code == 409
    assert snapshot(tree.parent) == before


def test_concurrent_renames_of_one_file_let_exactly_one_win(admin_user, tree):
    from concurrent.futures import ThreadPoolExecutor

    from files.paths import PathError
    from files.services import entry_rename

    def rename(name):
        try:
            entry_rename(user=admin_user, path="docs/a.txt", name=name)
            return "ok"
        except PathError as exc:
            return exc.status

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(rename, [f"n{i}.txt" for i in range(8)]))
    assert results.count("ok") == 1 and all(r == 404 for r in results if r != "ok")
    assert sorted(p.name for p in (tree / "docs").iterdir() if p.suffix == ".txt") == [
        next(f"n{i}.txt" for i, r in enumerate(results) if r == "ok")
    ]


def test_a_member_cannot_reach_another_users_home(member_api, admin_user, tree):
    other = tree / "home" / "admin"
    other.mkdir(parents=True)
    (other / "private.txt").write_text("private")
    assert member_api.get("/api/files/", {"path": ""}).json()["entries"][0]["name"] == "home"  # creates their home
    before = snapshot(tree.parent)
    for path in ("home/../admin/private.txt", "admin/private.txt", "../admin/private.txt", "docs/a.txt"):
        assert member_api.get("/api/files/content/", {"path": path}).status_code in (400, 403, 404)
        assert member_api.post("/api/files/delete/", {"paths": [path]}, format="json").status_code in (400, 403, 404)
    assert snapshot(tree.parent) == before


def test_a_member_cannot_change_permissions_or_grant_folders(member_api, member_user, tree):
    assert member_api.post("/api/files/permissions/", {"path": "home", "mode": "777"}, format="json").status_code == 403
    assert (
        member_api.post(
            "/api/files/grants/",
            {"user": member_user.pk, "path": "docs", "name": "D", "access": "write"},
            format="json",
        ).status_code
        == 403
    )


def test_a_read_only_grant_refuses_every_write(member_api, member_user, admin_user, tree):
    from files.models import FolderGrant

    FolderGrant.objects.create(user=member_user, path="docs", name="Docs", access="read")
    assert member_api.get("/api/files/", {"path": "Docs"}).json()["count"] == 2
    before = snapshot(tree.parent)
    assert member_api.post("/api/files/mkdir/", {"path": "Docs", "name": "n"}, format="json").status_code == 403
    assert member_api.post("/api/files/delete/", {"paths": ["Docs/a.txt"]}, format="json").status_code == 403
    assert member_api.post("/api/files/rename/", {"path": "Docs/a.txt", "name": "z"}, format="json").status_code == 403
    assert member_api.put("/api/files/content/?path=Docs/a.txt", {"content": "x"}, format="json").status_code == 403
    assert snapshot(tree.parent) == before


def test_a_link_leading_out_is_shown_but_never_followed(admin_api, tree):
    before = snapshot(tree.parent)
    listing = admin_api.get("/api/files/", {"path": ""}).json()
    link = next(e for e in listing["entries"] if e["name"] == "escape")
    assert link["is_link"] and link["link_outside"]
    for url, data in (
        ("/api/files/content/", {"path": "escape"}),
        ("/api/files/text/", {"path": "escape"}),
        ("/api/files/size/", {"path": "escape"}),
    ):
        response = admin_api.get(url, data)
        assert response.status_code == 403 and b"secret outside" not in response.content
    assert admin_api.put("/api/files/content/?path=escape", {"content": "x"}, format="json").status_code == 403
    assert admin_api.post("/api/files/shares/", {"path": "escape"}, format="json").status_code == 403
    assert snapshot(tree.parent) == before
    # Deleting the link moves the link itself to the trash; the file it pointed to is untouched.
    assert admin_api.post("/api/files/delete/", {"paths": ["escape"]}, format="json").status_code == 200
    assert (tree.parent / "outside.txt").read_text() == "secret outside"


@pytest.mark.parametrize("bad", [*BAD, "escape-dir", "escape-dir/secret.txt"])
def test_the_folder_page_refuses_a_traversal_given_in_its_address(admin_user, tree, bad):
    """The Files URL carries the folder (?path=…): a shared or hand-made address is checked like any API call."""
    from django.test import Client

    outside = tree.parent / "outside-dir"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret outside")
    (tree / "escape-dir").symlink_to(outside)
    client = Client()
    client.force_login(admin_user)
    for headers in (
        {},
        {"HTTP_HX_REQUEST": "true"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "1"},
    ):
        for view in ("list", "grid"):
            response = client.get("/files/", {"path": bad, "view": view}, **headers)
            assert 400 <= response.status_code < 500, (bad, headers, response.status_code)
            html = response.content.decode()  # the address is echoed back (data-path), nothing behind it
            assert "secret outside" not in html and 'data-entry="secret.txt"' not in html
    assert client.get("/files/view/", {"path": "escape-dir/secret.txt"}).status_code == 404
