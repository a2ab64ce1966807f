"""A worker syncs a store in a short-lived child process (`manage.py appstore_sync`), so the long-lived worker
never keeps the memory of a catalogue sync; the outcome, its progress and its failures reach the store as before."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from appstore import services
from appstore.models import Store
from appstore.tasks import sync_store
from casaos_site.i18n import shown
from tests.appstore.conftest import ODD_STORE, make_store


@pytest.fixture
def child_db(transactional_db, monkeypatch):
    """The child process opens the test database (committed rows: a transactional test)."""
    from tests.conftest import _database_url

    monkeypatch.setenv("DATABASE_URL", _database_url())
    Store.objects.filter(is_default=True).delete()


@pytest.fixture
def not_in_this_process(monkeypatch):
    """The in-process sync fails loudly: whatever syncs must be another process."""

    def refuse(**kwargs):
        raise AssertionError("the store was synced inside the worker's process")

    monkeypatch.setattr(services, "store_sync_run", refuse)


def _listener():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(services.STORES_GROUP, channel)
    return layer, channel


async def _drain(layer, channel) -> list[dict]:
    found = []
    while True:
        try:
            found.append(await asyncio.wait_for(layer.receive(channel), timeout=2))
        except TimeoutError:
            return found


def test_the_worker_syncs_a_store_in_a_child_process_and_its_progress_reaches_the_page(
    child_db, allow_lan, not_in_this_process
):
    store = make_store(path=str(ODD_STORE))
    layer, channel = _listener()
    sync_store.run(store.pk)  # as a worker runs it (not eager)
    store.refresh_from_db()
    assert store.status == Store.Status.OK and store.app_count == 6 and store.progress == 100
    states = [e["data"] for e in async_to_sync(_drain)(layer, channel) if e["data"]["id"] == store.pk]
    assert any(s["status"] == Store.Status.SYNCING and 0 < s["progress"] < 100 for s in states), states  # live
    assert states[-1]["status"] == Store.Status.OK and states[-1]["app_count"] == 6


def test_a_failure_in_the_child_is_recorded_on_the_store(child_db, allow_lan, not_in_this_process, tmp_path):
    store = make_store(path=str(ODD_STORE))
    Store.objects.filter(pk=store.pk).update(path=str(tmp_path / "gone"))
    sync_store.run(store.pk)
    store.refresh_from_db()
    assert store.status == Store.Status.ERROR and store.error and store.progress == 100


def test_a_child_that_dies_leaves_an_error_not_a_busy_store(child_db, allow_lan, monkeypatch):
    store = make_store(path=str(ODD_STORE))
    Store.objects.filter(pk=store.pk).update(status=Store.Status.QUEUED)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "casaos_site.no_such_settings")  # the child cannot even start
    layer, channel = _listener()
    assert services.store_sync_in_child(store_id=store.pk).status == Store.Status.ERROR
    store.refresh_from_db()
    assert store.error_code == "other" and "The sync process failed (exit code 1)" in shown(store.error)
    states = [e["data"] for e in async_to_sync(_drain)(layer, channel)]
    assert [s["status"] for s in states] == [Store.Status.ERROR], "the page was not told"


def test_an_eager_call_syncs_in_the_calling_process(db, allow_lan, monkeypatch):
    Store.objects.filter(is_default=True).delete()
    monkeypatch.setattr(services, "store_sync_in_child", lambda **kw: pytest.fail("a child process for an eager call"))
    store = make_store(path=str(ODD_STORE))
    sync_store.apply(args=[store.pk])
    store.refresh_from_db()
    assert store.status == Store.Status.OK and store.app_count == 6
