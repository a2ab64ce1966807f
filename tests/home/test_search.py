"""The home page's search: grouped results, each group limited to what the user may see, bounded in time and size."""

import pytest
from django.utils import timezone

from apps.models import AppGrant, Installation
from appstore.models import CatalogApp, Store
from files.models import FolderGrant
from home import search as search_module
from home.search import home_search

S = Installation.Status


def groups(results: dict) -> dict[str, list[str]]:
    return {g["key"]: [hit["title"] for hit in g["results"]] for g in results["groups"]}


@pytest.fixture
def catalogue(db, tmp_path):
    store = Store.objects.create(name="local", kind=Store.Kind.FOLDER, path=str(tmp_path), synced_at=timezone.now())
    for i, title in enumerate(("Jellyfin", "Nextcloud", "Jelly Notes")):
        CatalogApp.objects.create(
            store=store,
            store_app_id=f"app{i}",
            title={"en_us": title},
            title_sort=title.lower(),
            tagline={"en_us": f"{title} tagline"},
            search_text=f"{title} tagline".casefold(),
            compose="services: {}",
        )
    Store.objects.filter(pk=store.pk).update(app_count=3)
    return store


@pytest.fixture
def apps(db):
    return {
        n: Installation.objects.create(name=n, title=n.title(), compose="services: {}", status=S.RUNNING)
        for n in ("jellyfin", "jellyseerr", "vault")
    }


def test_it_groups_installed_apps_the_catalogue_files_and_settings(admin_user, apps, catalogue, root):
    (root / "jelly-recipes.txt").write_text("x")
    found = groups(home_search(user=admin_user, query="jelly"))
    assert found["apps"] == ["Jellyfin", "Jellyseerr"]
    assert set(found["catalog"]) == {"Jellyfin", "Jelly Notes"}
    assert found["files"] == ["jelly-recipes.txt"]
    assert groups(home_search(user=admin_user, query="token"))["settings"] == ["API tokens"]


def test_an_empty_query_finds_nothing(admin_user):
    assert home_search(user=admin_user, query="   ") == {"query": "", "groups": []}


def test_a_member_finds_only_the_apps_granted_to_them(member_user, apps, root):
    AppGrant.objects.create(installation=apps["jellyfin"], user=member_user)
    found = groups(home_search(user=member_user, query="jelly"))
    assert found["apps"] == ["Jellyfin"]
    assert "apps" not in groups(home_search(user=member_user, query="vault"))


def test_a_member_does_not_get_the_admin_settings_pages(member_user, admin_user, root):
    assert "settings" not in groups(home_search(user=member_user, query="users"))
    assert groups(home_search(user=admin_user, query="users"))["settings"] == ["Users"]


def test_a_member_finds_files_only_in_their_home_and_granted_folders(member_user, admin_user, root, tmp_path):
    home_search(user=member_user, query="warm-up")  # makes the member's home
    home = root / "home" / member_user.username
    (home / "plan-mine.txt").write_text("mine")
    (root / "plan-admin.txt").write_text("the admin's")
    (root / "shared").mkdir()
    (root / "shared" / "plan-shared.txt").write_text("granted")
    (root / "private").mkdir()
    (root / "private" / "plan-private.txt").write_text("not granted")
    other = root / "home" / "someone-else"
    other.mkdir(parents=True)
    (other / "plan-other.txt").write_text("another user's")
    (tmp_path / "plan-outside.txt").write_text("outside the root")
    (home / "escape").symlink_to(tmp_path)  # a link in the member's home leading out of the root
    (home / "private-link").symlink_to(root / "private")
    FolderGrant.objects.create(user=member_user, path="shared", name="shared", created_by=admin_user)

    found = home_search(user=member_user, query="plan")
    files = {g["key"]: g for g in found["groups"]}["files"]["results"]
    assert sorted(h["title"] for h in files) == ["plan-mine.txt", "plan-shared.txt"]
    assert all("/files/?path=" in h["url"] for h in files)


def test_the_file_search_stops_at_its_result_limit_and_says_so(admin_user, root):
    for i in range(search_module.GROUP_LIMIT + 5):
        (root / f"many-{i}.txt").write_text("x")
    files = {g["key"]: g for g in home_search(user=admin_user, query="many")["groups"]}["files"]
    assert len(files["results"]) == search_module.GROUP_LIMIT and files["truncated"]


def test_the_file_search_stops_when_its_time_is_up(admin_user, root, monkeypatch):
    (root / "deep").mkdir()
    (root / "deep" / "late-match.txt").write_text("x")
    monkeypatch.setattr(search_module, "FILES_SECONDS", -1)  # the clock has run out before the first entry
    files = {g["key"]: g for g in home_search(user=admin_user, query="late-match")["groups"]}["files"]
    assert files["results"] == [] and files["truncated"]  # the page says the search stopped early


def test_a_long_query_is_cut_not_refused(admin_user, root):
    assert len(home_search(user=admin_user, query="x" * 5000)["query"]) == search_module.QUERY_MAX
