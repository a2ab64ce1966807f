"""The folder page: name search shown as a listing of its own, and the owner/group/mode controls (admins only)."""

import re

import pytest
from django.conf import settings
from django.test import Client

from files.templatetags.humanize_files import octal


@pytest.fixture
def tree(root):
    (root / "photos" / "2024").mkdir(parents=True)
    (root / "photos" / "2024" / "beach.jpg").write_bytes(b"jpg")
    (root / "photos" / "beach-notes.txt").write_text("notes")
    (root / "docs").mkdir()
    (root / "docs" / "other.txt").write_text("x")
    return root


def _page(user, **params):
    client = Client()
    client.force_login(user)
    return client.get("/files/", params)


def test_search_results_are_a_listing_with_links_and_the_folder_of_each(admin_user, tree):
    html = _page(admin_user, path="photos", q="BEACH").content.decode()
    assert 'id="search-results"' in html and "2 matches" in html
    assert "/files/view/?path=photos/2024/beach.jpg" in html  # a file opens its page
    assert 'href="?path=photos/2024"' in html  # the folder it is in, one click away
    assert "other.txt" not in html
    fragment = Client()
    fragment.force_login(admin_user)
    htmx = fragment.get("/files/", {"path": "photos", "q": "notes"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="listing"' in htmx
    assert "beach-notes.txt" in htmx and "<html" not in htmx


def test_a_member_searches_only_their_own_view(member_user, admin_user, tree):
    (tree / "home" / "admin").mkdir(parents=True)
    (tree / "home" / "admin" / "beach-secret.txt").write_text("secret")
    html = _page(member_user, path="home", q="beach").content.decode()
    assert "beach-secret" not in html and "Nothing matches" in html
    refused = _page(member_user, path="home/../../home/admin", q="beach")
    assert refused.status_code == 404 and "beach-secret" not in refused.content.decode()


def test_a_history_restore_gets_the_whole_page(admin_user, tree):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/files/", {"path": "photos"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in page.content.decode()


def test_admins_get_the_permission_controls_and_members_do_not(admin_user, member_user, tree):
    (tree / "docs").chmod(0o750)
    html = _page(admin_user, path="").content.decode()
    assert 'id="permissions-dialog"' in html and 'data-permissions="docs"' in html and 'data-mode="750"' in html
    member = _page(member_user, path="home").content.decode()
    assert "permissions-dialog" not in member and "data-permissions" not in member
    client = Client()
    client.force_login(admin_user)
    file_page = client.get("/files/view/", {"path": "docs/other.txt"}).content.decode()
    assert 'id="permissions-box"' in file_page and 'value="644"' in file_page


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("-rw-r--r--", "644"),
        ("drwxr-x---", "750"),
        ("-rwsr-xr-x", "4755"),
        ("drwxrwxrwt", "1777"),
        ("-rwxr-S---", "2740"),
        ("", ""),
    ],
)
def test_octal_reads_ls_modes(shown, expected):
    assert octal(shown) == expected


@pytest.mark.parametrize(
    ("name", "mime", "is_dir", "icon"),
    [
        ("Photos", "", True, "folder"),
        ("a.JPG", "image/jpeg", False, "image"),
        ("clip.mkv", "video/x-matroska", False, "video"),
        ("song.flac", "audio/flac", False, "audio"),
        ("paper.pdf", "application/pdf", False, "pdf"),
        ("backup.tar.gz", "application/gzip", False, "archive"),
        ("b.7z", "application/octet-stream", False, "archive"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", False, "document"),
        ("sheet.ods", "application/vnd.oasis.opendocument.spreadsheet", False, "document"),
        ("compose.yaml", "application/octet-stream", False, "code"),
        ("run.sh", "text/x-sh", False, "code"),
        ("notes.txt", "text/plain", False, "text"),
        ("README.md", "text/markdown", False, "text"),
        ("blob.bin", "application/octet-stream", False, "file"),
    ],
)
def test_it_picks_a_file_type_icon(name, mime, is_dir, icon):
    from types import SimpleNamespace

    from files.templatetags.humanize_files import file_icon

    assert file_icon(SimpleNamespace(name=name, mime=mime, is_dir=is_dir)) == icon


def test_a_listing_link_keeps_the_view_and_order_and_drops_defaults():
    from files.templatetags.humanize_files import files_query

    shown = {"path": "a b/c", "mode": "grid", "sort": "size", "reverse": True, "hidden": False}
    assert files_query(shown, path="a b/c/d") == "?path=a+b/c/d&view=grid&sort=size&reverse=1"
    assert files_query(shown, view="list", reverse=False) == "?path=a+b/c&sort=size"
    assert files_query(shown, hidden="1", page=3) == "?path=a+b/c&view=grid&sort=size&reverse=1&hidden=1&page=3"
    assert files_query({"path": ""}, q="x&y") == "?path=&q=x%26y"


def test_the_listing_says_its_own_address_and_every_link_pushes_it(admin_user, tree):
    """The address follows the folder, view and order: a refresh after an upload or a change keeps the grid."""
    html = _page(admin_user, path="photos", view="grid", sort="modified").content.decode()
    assert 'data-query="?path=photos&amp;view=grid&amp;sort=modified"' in html
    assert 'hx-push-url="true"' in html and "hx-history-elt" in html
    assert 'hx-get="?path=photos/2024&amp;view=grid&amp;sort=modified"' in html  # into a folder: same view
    assert 'href="?path=&amp;view=grid&amp;sort=modified"' in html  # the breadcrumb too
    listing = _page(admin_user, path="photos").content.decode()
    assert 'href="?path=photos&amp;view=grid"' in listing  # the grid toggle
    assert '<use href="/static/img/file-icons.svg#i-folder">' in listing


def test_rows_carry_their_actions_and_bulk_buttons_wait_for_a_selection(member_user, tree):
    home = tree / "home" / member_user.username
    home.mkdir(parents=True)
    (home / "a.txt").write_text("a")
    html = _page(member_user, path="home").content.decode()  # a member's home is "home" in their view
    row = html[html.index('data-entry="a.txt"') :]
    row = row[: row.index("</tr>")]
    for action in ("data-download", "data-rename=", "data-move=", "data-delete=", "data-share="):
        assert action in row, action
    buttons = re.findall(r'data-selection="(\w+)"( disabled)?', html)
    assert len(buttons) == 5 and all(disabled for _, disabled in buttons)


def test_no_script_of_ours_opens_a_native_dialog():
    """prompt/confirm/alert cannot say what will happen and block the page: ours ask through casaDialog."""
    scripts = [*sorted((settings.BASE_DIR / "static" / "js").glob("*.js")), settings.BASE_DIR / "static/src/editor.js"]
    for script in scripts:
        assert not re.search(r"window\.(prompt|confirm|alert)\(|(?<![\w.])alert\(", script.read_text()), script.name


def test_the_upload_area_shows_the_free_space_of_the_disk_of_the_folder_shown(admin_user, small_disk):
    client = Client()
    client.force_login(admin_user)
    listing = client.get("/api/files/", {"path": "small"}).json()
    assert 3 * 1024 * 1024 < listing["free"] <= 4 * 1024 * 1024  # the 4 MiB disk, not the root's
    html = _page(admin_user, path="small").content.decode()
    upload_area = html[html.index('id="drop-zone"') :]
    assert re.search(r'id="upload-free"[^>]*>\s*[34]\.\d\xa0MB free on this disk', upload_area)
    fragment = client.get("/files/", {"path": "small"}, HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'data-free="[34]\.\d\xa0MB free on this disk"', fragment)  # files.js copies it on each swap
