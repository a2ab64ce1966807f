"""Dashboard pages and the system status API."""

import pytest


def test_dashboard_needs_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_dashboard_shows_the_figures(client, member_user):
    client.force_login(member_user)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'ws-connect="/ws/system/"' in body
    assert 'id="system-stats"' in body
    for label in ("CPU", "Memory", "Network", "Disk"):
        assert label in body


def test_stats_fragment_is_only_the_fragment(client, member_user):
    client.force_login(member_user)
    body = client.get("/system/stats/").content.decode()
    assert body.strip().startswith('<section id="system-stats"')
    assert "<html" not in body


def test_api_system_status_returns_the_figures(client, member_user):
    client.force_login(member_user)
    response = client.get("/api/system/status/")
    assert response.status_code == 200
    data = response.json()
    assert {"cpu_percent", "memory_percent", "memory_total", "disks", "net_recv_per_s"} <= data.keys()


def test_api_system_status_needs_authentication(client, db):
    assert client.get("/api/system/status/").status_code in (401, 403)


@pytest.mark.parametrize("path", ["/api/", "/api/schema/", "/api/docs/", "/django-admin/"])
def test_api_docs_and_admin_answer(client, admin_user, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 200


def test_schema_documents_system_status(client, admin_user):
    client.force_login(admin_user)
    assert b"/api/system/status/" in client.get("/api/schema/").content


@pytest.mark.parametrize("path", ["/appstore/", "/apps/", "/files/", "/settings/"])
def test_navigation_pages_answer(client, member_user, path):
    client.force_login(member_user)
    assert client.get(path).status_code == 200


def test_the_storage_page_is_for_admins(client, member_user, admin_user):
    """Disks are admin business (issue 15): members get the 403 page (tests/storage/test_page.py has the rest)."""
    client.force_login(member_user)
    assert client.get("/storage/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/storage/").status_code == 200


def test_login_page_renders(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
