"""The folder page: name search shown as a listing of its own, and the owner/group/mode controls (admins only)."""

import pytest
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
