"""Settings → System over the API and the page: each setting, each refusal, who may, CSRF, the audit log."""

import json
import socket

import pytest
from django.test import Client

from accounts.models import AuditEvent
from apps.models import Installation
from apps.services.install import _builtins
from storage.models import StorageSettings
from system.models import SystemSettings
from tests.system.conftest import client_for

URL = "/api/system/settings/"
pytestmark = pytest.mark.django_db


def patch(client, body):
    return client.patch(URL, json.dumps(body), content_type="application/json")


def audited(action="system.settings"):
    return list(AuditEvent.objects.filter(action=action).values_list("details", flat=True))


# ---------------------------------------------------------------------------- reading
def test_it_shows_the_settings_version_and_hardware(admin_user, fake_host, settings):
    body = client_for(admin_user).get(URL).json()
    assert body["hostname"] == "casa-test"
    assert body["host_time_zone"] == "Etc/UTC"
    assert body["version"] == settings.CASAOS_VERSION
    assert body["hardware"]["cpu_cores"] >= 1 and body["hardware"]["memory_bytes"] > 0
    assert body["release"] == {**body["release"], "enabled": False, "newer": False}  # off by default
    assert body["web_bind_pending"] is False


def test_members_and_strangers_are_refused(member_user, fake_host):
    for client in (client_for(member_user), Client()):
        assert client.get(URL).status_code in (401, 403)
        assert patch(client, {"hostname": "taken"}).status_code in (401, 403)
    assert fake_host.commands() == [] and fake_host.file("/etc/hostname") == "casa-test\n"
    assert not AuditEvent.objects.filter(action="system.settings").exists()


def test_a_patch_without_the_csrf_token_changes_nothing(admin_user, fake_host):
    response = patch(client_for(admin_user, csrf=True), {"hostname": "forged"})
    assert response.status_code == 403
    assert fake_host.commands() == [] and fake_host.file("/etc/hostname") == "casa-test\n"


# ---------------------------------------------------------------------------- host name
def test_it_sets_the_host_name_on_the_host_and_audits_it(admin_user, fake_host):
    response = patch(client_for(admin_user, stepped_up=True), {"hostname": "living-room"})
    assert response.status_code == 200, response.content
    assert response.json()["hostname"] == "living-room"
    assert fake_host.file("/etc/hostname") == "living-room\n"
    assert fake_host.commands() == [["hostname", "--", "living-room"]]  # and it ran, in a namespace of its own
    assert audited() == [{"hostname": "living-room"}]


@pytest.mark.parametrize("name", ["-rf", "bad_name", "a" * 64, "box.", "x;reboot", ""])
def test_it_refuses_a_host_name_outside_rfc_1123(admin_user, fake_host, name):
    response = patch(client_for(admin_user, stepped_up=True), {"hostname": name})
    assert response.status_code == 400
    assert "hostname" in response.json()
    assert fake_host.commands() == [] and fake_host.file("/etc/hostname") == "casa-test\n"
    assert audited() == []


def test_the_same_name_again_runs_nothing(admin_user, fake_host):
    assert patch(client_for(admin_user), {"hostname": "casa-test"}).status_code == 200
    assert fake_host.commands() == [] and audited() == []


# ---------------------------------------------------------------------------- time zone
def test_the_time_zone_goes_to_the_host_and_to_apps(admin_user, fake_host):
    response = patch(client_for(admin_user, stepped_up=True), {"time_zone": "Europe/Berlin"})
    assert response.status_code == 200, response.content
    assert fake_host.file("/etc/timezone") == "Europe/Berlin\n"
    assert (fake_host.root / "etc" / "localtime").readlink().name == "Berlin"
    assert response.json()["time_zone"] == "Europe/Berlin"
    assert _builtins("someapp", {"WEBUI_PORT": "8080"})["TZ"] == "Europe/Berlin"  # what the next install gets
    assert audited() == [{"time_zone": "Europe/Berlin"}]


def test_apps_get_casaos_tz_until_an_admin_chooses(fake_host, settings):
    settings.TIME_ZONE = "America/New_York"
    assert _builtins("someapp", {"WEBUI_PORT": "8080"})["TZ"] == "America/New_York"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../../etc/passwd", "--help"])
def test_it_refuses_an_unknown_time_zone(admin_user, fake_host, zone):
    response = patch(client_for(admin_user, stepped_up=True), {"time_zone": zone})
    assert response.status_code == 400
    assert "time zone" in response.json()["detail"]
    assert fake_host.file("/etc/timezone") == "Etc/UTC\n" and SystemSettings.load().time_zone == ""


# ---------------------------------------------------------------------------- language
def test_the_site_language_serves_people_who_chose_none(admin_user, member_user, fake_host):
    assert patch(client_for(admin_user), {"language": "de"}).status_code == 200
    page = client_for(member_user).get("/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and '<html lang="de"' in page.content.decode()
    member_user.language = "zh-hans"
    member_user.save()
    assert '<html lang="zh-hans"' in client_for(member_user).get("/settings/").content.decode()


def test_without_a_site_language_the_browser_decides(member_user, fake_host):
    page = client_for(member_user).get("/settings/", HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="de"' in page.content.decode()


def test_it_refuses_a_language_we_do_not_speak(admin_user, fake_host):
    assert patch(client_for(admin_user), {"language": "fr"}).status_code == 400
    assert SystemSettings.load().language == ""


# ---------------------------------------------------------------------------- web address
def test_a_new_web_address_is_pending_until_the_next_start(admin_user, fake_host, settings):
    settings.BIND = "127.0.0.1:8000"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = patch(client_for(admin_user, stepped_up=True), {"web_bind": f"127.0.0.1:{port}"}).json()
    assert body["web_bind"] == f"127.0.0.1:{port}" and body["web_bind_running"] == "127.0.0.1:8000"
    assert body["web_bind_pending"] is True
    from system.services import web_bind_started

    web_bind_started(bind=f"127.0.0.1:{port}")  # what manage.py serve records when it starts
    assert client_for(admin_user).get(URL).json()["web_bind_pending"] is False


def test_it_refuses_a_port_in_use(admin_user, fake_host):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        response = patch(
            client_for(admin_user, stepped_up=True), {"web_bind": f"127.0.0.1:{listener.getsockname()[1]}"}
        )
    assert response.status_code == 409
    assert response.json()["code"] == "port_in_use"
    assert SystemSettings.load().web_bind == ""


def test_it_refuses_a_port_an_app_publishes(admin_user, fake_host):
    Installation.objects.create(name="jellyfin", compose="services: {}", status="running", ports=["tcp/8096"])
    response = patch(client_for(admin_user, stepped_up=True), {"web_bind": "0.0.0.0:8096"})
    assert response.status_code == 409
    assert "jellyfin" in response.json()["detail"]


@pytest.mark.parametrize("bind", ["192.0.2.77:8000", "10.254.254.254:80"])
def test_it_refuses_an_address_that_is_not_on_this_host(admin_user, fake_host, bind):
    response = patch(client_for(admin_user, stepped_up=True), {"web_bind": bind})
    assert response.status_code == 400
    assert response.json()["code"] == "address"


@pytest.mark.parametrize("bind", ["localhost:8000", "0.0.0.0", "0.0.0.0:0", "0.0.0.0:70000", ":8000", "0.0.0.0:http"])
def test_it_refuses_a_malformed_web_address(admin_user, fake_host, bind):
    response = patch(client_for(admin_user, stepped_up=True), {"web_bind": bind})
    assert response.status_code == 400 and "web_bind" in response.json()


# ---------------------------------------------------------------------------- automount
def test_automount_is_the_storage_setting(admin_user, fake_host):
    response = patch(client_for(admin_user), {"automount": True})
    assert response.status_code == 200 and response.json()["automount"] is True
    assert StorageSettings.load().automount is True
    assert audited("storage.settings") == [{"automount": True}]
    assert client_for(admin_user).get("/api/storage/settings/").json()["automount"] is True


# ---------------------------------------------------------------------------- all or nothing
def test_one_bad_value_refuses_the_whole_change(admin_user, fake_host):
    response = patch(client_for(admin_user, stepped_up=True), {"hostname": "fine-name", "time_zone": "Nowhere/Atall"})
    assert response.status_code == 400
    assert fake_host.commands() == [] and fake_host.file("/etc/hostname") == "casa-test\n"
    assert audited() == []


# ---------------------------------------------------------------------------- the page
def test_the_page_saves_through_the_same_service(admin_user, fake_host):
    client = client_for(admin_user, stepped_up=True)
    form = {"hostname": "den", "time_zone": "Asia/Tokyo", "language": "", "web_bind": "", "automount": ""}
    form["web_bind"] = client.get(URL).json()["web_bind"]
    response = client.post("/settings/system/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert fake_host.file("/etc/hostname") == "den\n" and fake_host.file("/etc/timezone") == "Asia/Tokyo\n"
    assert audited() == [{"hostname": "den", "time_zone": "Asia/Tokyo"}]


def test_the_page_shows_a_refusal_beside_its_field(admin_user, fake_host):
    client = client_for(admin_user, stepped_up=True)
    form = {"hostname": "bad_name", "time_zone": "UTC", "language": "", "web_bind": client.get(URL).json()["web_bind"]}
    response = client.post("/settings/system/", form)
    assert response.status_code == 400
    assert "not a valid host name" in response.content.decode()
    assert fake_host.commands() == []


def test_members_get_a_403_page(member_user, fake_host):
    client = client_for(member_user)
    assert client.get("/settings/system/").status_code == 403
    assert client.post("/settings/system/", {"hostname": "x"}).status_code == 403
    assert "/settings/system/" not in client.get("/settings/").content.decode()


def test_the_web_server_takes_the_choice_at_start_or_falls_back_when_it_cannot(fake_host, settings):
    from system.services import web_bind_for_start

    settings.BIND = "127.0.0.1:8000"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    SystemSettings.objects.create(pk=1, web_bind=f"127.0.0.1:{port}")
    assert web_bind_for_start() == f"127.0.0.1:{port}"
    assert SystemSettings.load().web_bind_running == f"127.0.0.1:{port}"
    SystemSettings.objects.filter(pk=1).update(web_bind="192.0.2.77:8000")  # the address went away since
    assert web_bind_for_start() == "127.0.0.1:8000"  # the box stays reachable on CASAOS_BIND
    assert SystemSettings.load().web_bind_running == "127.0.0.1:8000"
