"""The REST API: stores (admins change them) and the catalogue (search, filters, detail with risk)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from appstore.models import CatalogApp, Store
from tests.appstore.conftest import ODD_STORE, V2_STORE, make_store, sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def odd(db, allow_lan):
    return sync(make_store(path=str(ODD_STORE), name="Odd store"))


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_lists_and_filters_the_catalogue(member_user, odd):
    client = api(member_user)
    data = client.get(reverse("api-catalog-list")).json()
    assert data["count"] == 6 and {"title", "icon_url", "needs_consent"} <= set(data["results"][0])
    found = client.get(reverse("api-catalog-list"), {"search": "brett"}).json()["results"]
    assert [a["store_app_id"] for a in found] == ["hello"]
    arm = client.get(reverse("api-catalog-list"), {"arch": "arm"}).json()["results"]
    assert [a["store_app_id"] for a in arm] == ["my.app"]
    assert client.get(reverse("api-catalog-list"), {"author_type": "official"}).json()["count"] == 3
    cats = client.get(reverse("api-catalog-categories")).json()
    assert {"name": "Developer", "count": 3} in cats


def test_it_returns_an_app_with_compose_and_risk_report(member_user, odd):
    risky = CatalogApp.objects.get(store_app_id="risky")
    data = api(member_user).get(reverse("api-catalog-detail", args=[risky.pk])).json()
    assert "privileged: true" in data["compose"]
    assert data["risk"]["needs_consent"] is True
    assert "full control of Docker" in data["risk"]["summary"]
    assert {f["code"] for f in data["risk"]["flags"]} >= {
        "privileged",
        "host_network",
        "host_pid",
        "engine_socket",
        "root_bind",
        "system_bind",
        "cap_add",
        "devices",
    }
    assert data["installed"] is False


def test_admins_add_sync_disable_and_remove_stores(admin_user, allow_lan, django_capture_on_commit_callbacks):
    client = api(admin_user)
    created = client.post(reverse("api-stores-list"), {"path": str(V2_STORE)}, format="json")
    assert created.status_code == 201 and created.json()["kind"] == "folder"
    pk = created.json()["id"]
    assert client.post(reverse("api-stores-sync", args=[pk])).status_code == 202
    sync(Store.objects.get(pk=pk))
    assert client.get(reverse("api-stores-detail", args=[pk])).json()["app_count"] == 1
    assert (
        client.patch(reverse("api-stores-detail", args=[pk]), {"enabled": False}, format="json").json()["enabled"]
        is False
    )
    assert client.delete(reverse("api-stores-detail", args=[pk])).status_code == 204
    assert not Store.objects.filter(pk=pk).exists()


def test_it_refuses_bad_store_sources(admin_user):
    client = api(admin_user)
    count = Store.objects.count()
    for body in (
        {"url": "file:///etc/passwd"},
        {"url": "ftp://x/y.zip"},
        {},
        {"url": "http://a/b.zip", "path": "/"},
        {"path": "relative"},
    ):
        response = client.post(reverse("api-stores-list"), body, format="json")
        assert response.status_code == 400, body
    assert Store.objects.count() == count


def test_members_read_stores_but_never_change_them(member_user, odd):
    client = api(member_user)
    assert client.get(reverse("api-stores-list")).status_code == 200
    assert client.post(reverse("api-stores-list"), {"path": str(V2_STORE)}, format="json").status_code == 403
    assert client.post(reverse("api-stores-sync", args=[odd.pk])).status_code == 403
    assert (
        client.patch(reverse("api-stores-detail", args=[odd.pk]), {"enabled": False}, format="json").status_code == 403
    )
    assert client.delete(reverse("api-stores-detail", args=[odd.pk])).status_code == 403
    odd.refresh_from_db()
    assert odd.enabled and odd.status == Store.Status.OK and not Store.objects.filter(path=str(V2_STORE)).exists()


def test_the_schema_documents_the_endpoints(admin_user):
    schema = api(admin_user).get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/stores/",
        "/api/stores/{id}/sync/",
        "/api/catalog/",
        "/api/catalog/{id}/",
        "/api/catalog/categories/",
    ):
        assert path in schema
