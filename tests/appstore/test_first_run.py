"""First run: stores sync on their own (at worker start, when added or enabled, again after network failures),
and an empty App Store says why, in plain words, with a Retry button; the LAN switch covers folder stores."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appstore import services
from appstore.models import AppstoreSettings, CatalogApp, Store
from casaos_site.i18n import shown
from tests.appstore.conftest import ODD_STORE, make_store, sync

pytestmark = pytest.mark.django_db
OFFLINE = "https://casaos-store.invalid/store/archive/main.zip"  # .invalid never resolves: no network for it


@pytest.fixture
def no_default_store(db):
    Store.objects.filter(is_default=True).delete()


@pytest.fixture
def queued(monkeypatch):
    """Record the syncs that would reach the worker (the tasks run on commit)."""
    from appstore import tasks

    ids: list[int] = []
    monkeypatch.setattr(tasks.sync_store, "delay", ids.append)
    return ids


def offline_store(name="Community store"):
    store = sync(make_store(url=OFFLINE.replace("store/", f"{name.split()[0].lower()}/"), name=name))
    assert store.status == Store.Status.ERROR and store.error_code == "dns"
    return store


# ---------------------------------------------------------------------------- the App Store page
def test_an_empty_catalogue_after_a_failed_sync_says_so_in_plain_words(client, admin_user, no_default_store):
    offline_store()
    client.force_login(admin_user)
    page = client.get(reverse("appstore")).content.decode()
    assert "The app catalogue could not be loaded" in page
    assert "Community store" in page and "No network: casaos-store.invalid could not be found" in page
    assert "Name or service not known" in page or "name resolution" in page  # the detail, one click away
    assert 'id="catalog-retry"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "No app matches" not in page and "0 apps" not in page


def test_members_see_why_but_not_the_retry_button(client, member_user, no_default_store):
    offline_store()
    page = client.force_login(member_user) or client.get(reverse("appstore")).content.decode()
    assert "No network" in page and 'id="catalog-retry"' not in page
    assert "An administrator can retry it" in page


def test_retry_queues_the_failed_stores_and_the_page_shows_them_loading(
    client, admin_user, no_default_store, queued, django_capture_on_commit_callbacks
):
    store = offline_store()
    disabled = offline_store("Disabled store")
    services.store_set_enabled(user=admin_user, store=disabled, enabled=False)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appstore-retry"))
    assert response.status_code == 302 and response["Location"] == reverse("appstore")
    assert queued == [store.pk]  # the disabled one stays off
    page = client.get(reverse("appstore")).content.decode()
    assert "Loading the app catalogue" in page and "Community store" in page
    assert "data-poll" in page and "?poll=1" in page


def test_retry_needs_an_admin_and_a_csrf_token(client, member_user, admin_user, no_default_store, queued):
    store = offline_store()
    client.force_login(member_user)
    assert client.post(reverse("appstore-retry")).status_code in (302, 403)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(reverse("appstore-retry")).status_code == 403
    store.refresh_from_db()
    assert store.status == Store.Status.ERROR and queued == []  # nothing changed, nothing queued


def test_the_loading_page_reloads_itself_once_the_apps_arrived(client, member_user, no_default_store, allow_lan):
    store = make_store(path=str(ODD_STORE))
    client.force_login(member_user)
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"}
    waiting = client.get(reverse("appstore"), {"poll": "1"}, **poll)
    assert "Loading the app catalogue" in waiting.content.decode() and "HX-Refresh" not in waiting
    sync(store)
    assert client.get(reverse("appstore"), {"poll": "1"}, **poll)["HX-Refresh"] == "true"


def test_filters_that_match_nothing_still_say_so(client, member_user, no_default_store, allow_lan):
    sync(make_store(path=str(ODD_STORE)))
    page = client.force_login(member_user) or client.get(reverse("appstore"), {"q": "zzzz"}).content.decode()
    assert "No app matches" in page and "could not be loaded" not in page


def test_the_store_page_no_longer_claims_every_app_imported_before_any_sync(client, admin_user, no_default_store):
    store = offline_store()
    client.force_login(admin_user)
    page = client.get(reverse("appstore-store", args=[store.pk])).content.decode()
    assert "Never synced successfully" in page and "every app of this store imported" not in page
    assert "No network" in page  # the row says it in words too, the errno under "Technical details"


# ---------------------------------------------------------------------------- syncing on its own
def test_a_new_or_re_enabled_store_syncs_at_once(
    admin_user, no_default_store, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        store = services.store_create(user=admin_user, url=OFFLINE)
    assert queued == [store.pk]
    services.store_set_enabled(user=admin_user, store=store, enabled=False)
    Store.objects.filter(pk=store.pk).update(status=Store.Status.OK)
    store.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.store_set_enabled(user=admin_user, store=store, enabled=True)
    assert queued == [store.pk, store.pk]


def test_switching_a_store_on_in_the_django_admin_syncs_it_too(
    client, admin_user, no_default_store, queued, django_capture_on_commit_callbacks
):
    store = offline_store()
    Store.objects.filter(pk=store.pk).update(enabled=False)
    client.force_login(admin_user)
    url = reverse("admin:appstore_store_change", args=[store.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"name": "Renamed", "enabled": "on"})
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.enabled and store.name == "Renamed" and queued == [store.pk]


def test_at_start_every_due_store_is_queued(no_default_store, queued, django_capture_on_commit_callbacks):
    now = timezone.now()
    never = make_store(url="https://a.invalid/a.zip", name="never")
    failed = make_store(url="https://b.invalid/b.zip", name="failed")
    stale = make_store(url="https://c.invalid/c.zip", name="stale")
    fresh = make_store(url="https://d.invalid/d.zip", name="fresh")
    off = make_store(url="https://e.invalid/e.zip", name="off")
    Store.objects.filter(pk=failed.pk).update(status=Store.Status.ERROR, synced_at=now)
    Store.objects.filter(pk=stale.pk).update(status=Store.Status.OK, synced_at=now - timedelta(hours=2))
    Store.objects.filter(pk=fresh.pk).update(status=Store.Status.OK, synced_at=now - timedelta(minutes=5))
    Store.objects.filter(pk=off.pk).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        from appstore.tasks import _sync_at_start, sync_due

        sync_due.run()
    assert sorted(queued) == sorted([never.pk, failed.pk, stale.pk])
    assert callable(_sync_at_start)


def test_network_failures_are_retried_with_backoff_and_other_failures_are_not(store_server, allow_lan):
    from appstore.tasks import sync_store

    store = sync(make_store(url=store_server.url("status/503/odd.zip")))
    assert store.error_code == "server"
    delays = [services.store_sync_retry_delay(store=store, attempt=n) for n in range(7)]
    assert delays == [30, 60, 120, 240, 480, 960, None]
    store.refresh_from_db()
    assert "Trying again in 16 minutes" in shown(store.message)  # stored as its English id, shown translated

    # The task itself (run eagerly: Celery applies each retry at once) tries 1 + 6 times, then waits for beat.
    sync_store.apply(args=[store.pk])
    assert len(store_server.gets("status/503/odd.zip")) == 1 + 7
    missing = make_store(url=store_server.url("missing.zip"))
    sync_store.apply(args=[missing.pk])
    assert store_server.gets("missing.zip") == [404]  # a wrong address does not heal by itself


# ---------------------------------------------------------------------------- the LAN switch
def test_folder_stores_need_the_switch_for_stores_on_this_machine(client, admin_user, no_default_store):
    assert not AppstoreSettings.load().allow_lan_stores
    with pytest.raises(services.StoreError, match="Allow stores on this machine"):
        services.store_create(user=admin_user, path=str(ODD_STORE), sync=False)
    client.force_login(admin_user)
    page = client.post(reverse("appstore-stores"), {"path": str(ODD_STORE)}).content.decode()
    assert "Allow stores on this machine" in page and not Store.objects.exists()
    response = client.post(reverse("api-stores-list"), {"path": str(ODD_STORE)}, content_type="application/json")
    assert response.status_code == 400 and not Store.objects.exists()


def test_a_folder_store_stops_syncing_when_the_switch_is_turned_off(admin_user, no_default_store, allow_lan):
    store = sync(make_store(path=str(ODD_STORE)))
    assert store.status == Store.Status.OK and store.app_count == 6
    services.appstore_settings_update(user=admin_user, allow_lan_stores=False)
    store = sync(store)
    assert store.status == Store.Status.ERROR and store.error_code == "blocked"
    assert CatalogApp.objects.filter(store=store).count() == 6  # the last good catalogue stays


# ---------------------------------------------------------------------------- a real worker start
@pytest.mark.stack
def test_a_starting_worker_syncs_the_stores_nobody_synced(transactional_db, store_server, allow_lan, redis_client):
    import os

    from tests.conftest import LiveStack, _database_url

    Store.objects.filter(is_default=True).delete()
    store = make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip"), name="Fresh install")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "DATABASE_URL": _database_url()}
    stack = LiveStack(env)
    try:
        stack.start_worker()
        deadline = time.monotonic() + 60
        while Store.objects.get(pk=store.pk).status != Store.Status.OK:
            assert time.monotonic() < deadline, Store.objects.get(pk=store.pk).error or "the worker never synced it"
            time.sleep(0.3)
    finally:
        stack.stop()
    assert Store.objects.get(pk=store.pk).app_count == 6
