"""GET|PATCH /api/apps/{id}/address/ and the app's Address page: DNS labels, unique, reserved names refused with
a clear 400; members refused; each change re-pushes Caddy's configuration, and so does an app's new web port."""

import pytest

from apps.models import AppGrant, Installation
from proxy.models import AppAddress
from proxy.tasks import proxy_push_task
from tests.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    return Installation.objects.create(name="notes", compose="services: {}", status="running", web_port=8123)


@pytest.fixture(autouse=True)
def proxy_domain():
    from proxy.models import ProxySettings

    ProxySettings.objects.update_or_create(pk=1, defaults={"domain": "casa.test", "https": True})


def pushes_in(callbacks) -> int:
    """How many of the callbacks queued for the commit push Caddy's configuration."""
    return sum(1 for callback in callbacks if callback == proxy_push_task.delay)


def patch(user, app, data):
    return logged_in(user).patch(f"/api/apps/{app.pk}/address/", data, "application/json")


def test_an_app_gets_an_address(admin_user, app, settings, django_capture_on_commit_callbacks):
    settings.PROXY = True
    with django_capture_on_commit_callbacks() as pushes:
        reply = patch(admin_user, app, {"name": "Notes", "require_login": True})
    assert reply.status_code == 200, reply.content
    assert reply.json()["name"] == "notes" and reply.json()["require_login"] is True
    assert reply.json()["url"].startswith("https://notes.")
    assert pushes_in(pushes) == 1
    assert logged_in(admin_user).get(f"/api/apps/{app.pk}/address/").json()["web_port"] == 8123


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("has space", "lower-case letters"),
        ("-dash", "lower-case letters"),
        ("dash-", "lower-case letters"),
        ("a.b", "lower-case letters"),
        ("x" * 64, "lower-case letters"),
        ("ünï", "lower-case letters"),
        ("www", "reserved"),
        ("admin", "reserved"),
    ],
)
def test_bad_names_are_refused_with_the_reason(admin_user, app, name, says):
    reply = patch(admin_user, app, {"name": name})
    assert reply.status_code == 400
    assert says in reply.json()["name"][0]
    assert not AppAddress.objects.exists()


def test_a_name_is_unique(admin_user, app):
    other = Installation.objects.create(name="wiki", compose="services: {}", status="running", web_port=9000)
    assert patch(admin_user, other, {"name": "notes"}).status_code == 200
    reply = patch(admin_user, app, {"name": "NOTES"})
    assert reply.status_code == 400 and "already has the address" in reply.json()["name"][0]


def test_flags_need_an_address_first_and_an_empty_name_takes_it_away(admin_user, app, settings):
    assert patch(admin_user, app, {"public": True}).status_code == 400
    assert patch(admin_user, app, {"name": "notes"}).status_code == 200
    assert patch(admin_user, app, {"public": True}).json()["public"] is True
    assert patch(admin_user, app, {"name": ""}).json()["name"] == ""
    assert not AppAddress.objects.exists()


def test_members_may_not_read_or_change_addresses(member_user, app):
    AppGrant.objects.create(installation=app, user=member_user)
    assert logged_in(member_user).get(f"/api/apps/{app.pk}/address/").status_code == 403
    assert patch(member_user, app, {"name": "mine"}).status_code == 403
    assert not AppAddress.objects.exists()


def test_the_address_page_saves_and_shows_errors(admin_user, app):
    client = logged_in(admin_user)
    page = client.get(f"/apps/{app.pk}/address/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "https://&lt;name&gt;.&lt;domain&gt;" in text and "set it to /&lt;name&gt;/" in text  # text, not tags
    bad = client.post(f"/apps/{app.pk}/address/", {"name": "www"})
    assert bad.status_code == 400 and "reserved" in bad.content.decode()
    ok = client.post(f"/apps/{app.pk}/address/", {"name": "notes", "require_login": "on"})
    assert ok.status_code == 302
    assert AppAddress.objects.get().require_login is True


def test_a_new_web_port_or_a_removed_app_re_pushes(admin_user, app, settings, django_capture_on_commit_callbacks):
    settings.PROXY = True
    AppAddress.objects.create(installation=app, name="notes")
    with django_capture_on_commit_callbacks() as pushes:
        app.status = "stopped"
        app.save(update_fields=["status"])  # a status change does not touch what Caddy serves
    assert pushes_in(pushes) == 0
    with django_capture_on_commit_callbacks() as pushes:
        app.web_port = 8124
        app.save()
    assert pushes_in(pushes) == 1
    with django_capture_on_commit_callbacks() as pushes:
        app.delete()
    assert pushes_in(pushes) == 1


def test_nothing_is_pushed_when_the_proxy_is_off(admin_user, app, settings, django_capture_on_commit_callbacks):
    settings.PROXY = False
    with django_capture_on_commit_callbacks() as pushes:
        assert patch(admin_user, app, {"name": "notes"}).status_code == 200
    assert pushes_in(pushes) == 0


# ---------------------------------------------------------------------------- reached by a path (mode "path")
def test_an_app_is_reached_by_a_path_on_the_admins_address(admin_user, app, proxy_domain):
    reply = patch(admin_user, app, {"name": "notes", "mode": "path"})
    assert reply.status_code == 200, reply.content
    assert reply.json()["mode"] == "path"
    assert reply.json()["url"] == "https://casa.test/notes/"
    assert AppAddress.objects.get().mode == "path"
    back = patch(admin_user, app, {"mode": "name"}).json()
    assert back["mode"] == "name" and back["url"] == "https://notes.casa.test"


@pytest.mark.parametrize("name", ["api", "static", "settings", "files", "ws", "login", "accounts", "s", "metrics"])
def test_a_path_may_not_hide_a_page_of_the_admin(admin_user, app, name):
    reply = patch(admin_user, app, {"name": name, "mode": "path"})
    assert reply.status_code == 400, reply.content
    assert "page of this admin" in reply.json()["name"][0] or "reserved" in reply.json()["name"][0]
    assert not AppAddress.objects.exists()


def test_a_name_that_is_one_of_our_pages_is_fine_as_a_host_but_not_as_a_path(admin_user, app):
    assert patch(admin_user, app, {"name": "files"}).status_code == 200  # files.casa.test hides nothing of ours
    reply = patch(admin_user, app, {"mode": "path"})
    assert reply.status_code == 400 and "page of this admin" in reply.json()["name"][0]
    assert AppAddress.objects.get().mode == "name"


def test_an_unknown_mode_is_refused(admin_user, app):
    reply = patch(admin_user, app, {"name": "notes", "mode": "subdomain"})
    assert reply.status_code == 400 and "mode" in reply.json()
    assert not AppAddress.objects.exists()


def test_the_address_page_offers_the_path_with_its_explanation(admin_user, app):
    client = logged_in(admin_user)
    page = client.get(f"/apps/{app.pk}/address/").content.decode()
    assert 'value="path"' in page and "accept a base path" in page
    bad = client.post(f"/apps/{app.pk}/address/", {"name": "settings", "mode": "path"})
    assert bad.status_code == 400 and "page of this admin" in bad.content.decode()
    ok = client.post(f"/apps/{app.pk}/address/", {"name": "notes", "mode": "path"})
    assert ok.status_code == 302
    assert AppAddress.objects.get().mode == "path"
    assert "https://casa.test/notes/" in client.get(f"/apps/{app.pk}/address/").content.decode()
