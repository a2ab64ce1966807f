"""Store fetching through the live server and its worker (issue 12.9): with LAN stores allowed, a store that
redirects to the cloud metadata service is refused with a clear error, and such URLs cannot even be added."""

import time

import pytest

from appstore.models import AppstoreSettings, Store
from tests.appstore.conftest import StoreServer

pytestmark = pytest.mark.stack


@pytest.fixture
def lan_store_server(tmp_path, transactional_db):
    settings = AppstoreSettings.load()
    settings.allow_lan_stores = True
    settings.save()
    (tmp_path / "www").mkdir()
    server = StoreServer(tmp_path / "www")
    yield server
    server.close()


def _synced(admin_api, store_id: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = admin_api.get(f"/api/stores/{store_id}/").json()
        if state["status"] in ("ok", "error"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"the worker did not sync store {store_id}: {state}")


def test_a_lan_store_redirecting_to_the_metadata_service_is_refused(admin_api, lan_store_server):
    url = lan_store_server.url("redirect/http://169.254.169.254/latest/meta-data/iam/security-credentials/x.zip")
    answer = admin_api.post("/api/stores/", json={"url": url, "name": "metadata"})
    assert answer.status_code == 201, answer.text
    state = _synced(admin_api, answer.json()["id"])
    assert state["status"] == "error" and state["error_code"] == "forbidden", state
    assert "169.254.169.254" in state["error"] and "never allowed" in state["error"]
    assert "link-local or cloud metadata address" in state["problem"]
    assert [code for _method, _path, code in lan_store_server.requests] == [302]  # one hop, then nothing
    assert state["app_count"] == 0


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://100.100.100.200/x.zip"]
)
def test_a_metadata_address_cannot_be_added_as_a_store(admin_api, lan_store_server, url):
    answer = admin_api.post("/api/stores/", json={"url": url})
    assert answer.status_code == 400 and "never allowed" in answer.text, answer.text
    assert not Store.objects.filter(url=url).exists()
