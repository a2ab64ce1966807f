"""The home page: tiles of the apps the user may see with a menu by role, widgets, the search endpoints."""

import pytest

from apps.models import AppEvent, AppGrant, AppLock, Installation

S = Installation.Status
EVIL = '<img src=x onerror="alert(1)">'


@pytest.fixture
def apps(db):
    return {
        n: Installation.objects.create(name=n, title=t, compose="services: {}", status=s)
        for n, t, s in (("notes", "Notes", S.RUNNING), ("vault", "Vault", S.STOPPED), ("evil", EVIL, S.RUNNING))
    }


def test_it_needs_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


def test_it_shows_a_tile_per_app_with_the_full_menu_for_an_admin(client, admin_user, apps):
    client.force_login(admin_user)
    body = client.get("/").content.decode()
    assert body.count('<article class="tile') == 3
    assert 'ws-connect="/ws/apps/live/"' in body and 'ws-connect="/ws/system/"' in body
    notes, vault = apps["notes"].pk, apps["vault"].pk
    for url in (
        f"/api/apps/{notes}/stop/",
        f"/api/apps/{notes}/restart/",
        f"/api/apps/{vault}/start/",
        f"/apps/{notes}/settings/",
        f"/apps/{notes}/logs/",
        f"/apps/{notes}/manage/#uninstall-form",
        f"/apps/{notes}/open/",
    ):
        assert url in body, url
    assert 'class="status-dot dot-running"' in body and 'class="status-dot dot-stopped"' in body


def test_a_member_sees_only_granted_apps_and_only_what_they_may_do(client, member_user, apps):
    AppGrant.objects.create(installation=apps["vault"], user=member_user)
    client.force_login(member_user)
    body = client.get("/").content.decode()
    assert body.count('<article class="tile') == 1 and "Vault" in body and "Notes" not in body
    vault = apps["vault"].pk
    assert f"/api/apps/{vault}/start/" in body  # members may start an app granted to them
    for refused in ("/stop/", "/restart/", f"/apps/{vault}/settings/", f"/apps/{vault}/logs/", "#uninstall-form"):
        assert refused not in body, refused


def test_a_member_cannot_control_an_app_through_the_tiles_endpoints(client, member_user, apps):
    AppGrant.objects.create(installation=apps["vault"], user=member_user)
    client.force_login(member_user)
    notes, vault = apps["notes"], apps["vault"]
    # The tile menu posts to the REST API: the same checks as any API client.
    assert client.post(f"/api/apps/{notes.pk}/stop/").status_code == 404  # not granted: looks missing
    assert client.post(f"/api/apps/{notes.pk}/start/").status_code == 404
    assert client.post(f"/api/apps/{vault.pk}/stop/").status_code == 403  # granted, but stopping is for admins
    assert client.post("/apps/tiles/order/", {"order": f"{notes.pk},{vault.pk}"}).status_code == 204
    assert client.post(f"/apps/{notes.pk}/tile/", {"hidden": "1"}).status_code == 404
    assert not AppEvent.objects.exists() and not AppLock.objects.exists()  # nothing queued
    assert list(member_user.app_tiles.values_list("installation_id", flat=True)) == [vault.pk]


def test_app_names_are_escaped_on_the_tiles(client, admin_user, apps):
    client.force_login(admin_user)
    body = client.get("/").content.decode()
    assert EVIL not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_an_htmx_request_gets_the_tiles_alone(client, admin_user, apps):
    client.force_login(admin_user)
    body = client.get("/", headers={"HX-Request": "true"}).content.decode()
    assert body.strip().startswith('<section id="tiles"') and "<html" not in body


def test_hidden_tiles_are_left_out_until_asked_for(client, admin_user, apps):
    client.force_login(admin_user)
    client.post(f"/apps/{apps['vault'].pk}/tile/", {"hidden": "1"})
    assert "Vault" not in client.get("/").content.decode()
    assert "tile-hidden" in client.get("/?hidden=1").content.decode()


def test_an_empty_home_leads_an_installer_to_the_app_store(client, admin_user, member_user, db):
    client.force_login(admin_user)
    assert 'id="empty-appstore"' in client.get("/").content.decode()
    client.force_login(member_user)
    body = client.get("/").content.decode()
    assert 'id="empty-appstore"' not in body and "has not shared any app" in body


def test_widgets_can_be_turned_off_and_stay_off(client, member_user):
    client.force_login(member_user)
    assert client.post("/home/widgets/", {"shown": ["cpu", "memory", "disks", "uptime", "history"]}).status_code == 302
    member_user.refresh_from_db()
    assert member_user.hidden_widgets == ["network", "temperature"]
    body = client.get("/").content.decode()
    assert "hide-network" in body and "hide-temperature" in body and "hide-cpu" not in body
    assert 'value="network" data-widget-toggle>' in body  # its switch is off


def test_the_widgets_api_reads_and_sets_them(client, member_user):
    client.force_login(member_user)
    assert all(w["shown"] for w in client.get("/api/home/widgets/").json())
    response = client.put("/api/home/widgets/", {"shown": ["cpu"]}, content_type="application/json")
    assert response.status_code == 200
    assert [w["key"] for w in response.json() if w["shown"]] == ["cpu"]
    bad = client.put("/api/home/widgets/", {"shown": ["cpu", "bitcoin"]}, content_type="application/json")
    assert bad.status_code == 400 and "shown" in bad.json()
    member_user.refresh_from_db()
    assert "memory" in member_user.hidden_widgets


def test_the_widgets_show_each_interface_disk_and_uptime(client, member_user):
    client.force_login(member_user)
    body = client.get("/").content.decode()
    for widget in ("cpu", "memory", "disks", "network", "uptime"):
        assert f'data-widget="{widget}"' in body, widget


def test_the_search_fragment_and_page(client, admin_user, apps):
    client.force_login(admin_user)
    fragment = client.get("/search/?q=note", headers={"HX-Request": "true"}).content.decode()
    assert 'role="listbox"' in fragment and "Notes" in fragment and "<html" not in fragment
    page = client.get("/search/?q=note").content.decode()
    assert "<html" in page and "Notes" in page


def test_search_results_escape_app_names(client, admin_user, apps):
    client.force_login(admin_user)
    fragment = client.get("/search/?q=onerror", headers={"HX-Request": "true"}).content.decode()
    assert "onerror" in fragment and EVIL not in fragment


def test_the_search_api_answers_grouped_json_and_needs_a_login(client, member_user, apps):
    assert client.get("/api/search/?q=notes").status_code in (401, 403)
    client.force_login(member_user)
    data = client.get("/api/search/?q=notes").json()
    assert data["query"] == "notes" and all(g["key"] != "apps" for g in data["groups"])  # not granted: not found
    AppGrant.objects.create(installation=apps["notes"], user=member_user)
    data = client.get("/api/search/?q=notes").json()
    assert [g["results"][0]["title"] for g in data["groups"] if g["key"] == "apps"] == ["Notes"]
