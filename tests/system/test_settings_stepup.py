"""Attack: renaming the box, its time zone or its web address without a fresh step-up, on every path (Settings →
System's page and API, the Network page and API, the service itself): each refused, and nothing changed."""

import json
import time

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.permissions import STEPUP_SECONDS, STEPUP_SESSION_KEY
from accounts.services.tokens import api_token_create
from system.models import SystemSettings
from system.services import SystemRefused, system_settings_update
from tests.system.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/system/settings/"
STEPUP = "This action needs you to confirm your password again (step-up)."
HOST_CHANGES = [{"hostname": "stolen-name"}, {"time_zone": "Asia/Tokyo"}, {"web_bind": "127.0.0.1:8123"}]


def unchanged(fake_host) -> bool:
    row = SystemSettings.load()
    untouched_host = fake_host.commands() == [] and fake_host.file("/etc/hostname") == "casa-test\n"
    return (
        untouched_host
        and (row.time_zone, row.web_bind) == ("", "")
        and not AuditEvent.objects.filter(action="system.settings").exists()
    )


def expired(client: Client) -> Client:
    session = client.session
    session[STEPUP_SESSION_KEY] = time.time() - STEPUP_SECONDS - 60
    session.save()
    return client


def page_form(client, **change) -> dict:
    shown = client.get(URL).json()
    form = {name: shown[name] for name in ("hostname", "time_zone", "language", "web_bind")}
    return {**form, "automount": "", **change}


@pytest.mark.parametrize("change", HOST_CHANGES)
def test_the_api_refuses_a_host_change_without_a_fresh_step_up(admin_user, fake_host, change):
    for client in (client_for(admin_user), expired(client_for(admin_user, stepped_up=True))):
        response = client.patch(URL, json.dumps(change), content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (403, "stepup")
        assert response.json()["detail"] == STEPUP
    assert unchanged(fake_host)


@pytest.mark.parametrize("change", HOST_CHANGES)
def test_the_page_refuses_a_host_change_without_a_fresh_step_up(admin_user, fake_host, change):
    client = client_for(admin_user)
    response = client.post("/settings/system/", page_form(client, **change))
    assert response.status_code == 403 and STEPUP in response.content.decode()
    assert unchanged(fake_host)


def test_the_page_says_what_needs_the_password_and_saves_the_rest_without(admin_user, fake_host):
    client = client_for(admin_user)
    assert 'id="system-stepup"' in client.get("/settings/system/").content.decode()
    response = client.post("/settings/system/", page_form(client, language="de"))
    assert response.status_code == 302  # the host's settings posted back as they are: no step-up, no host command
    assert SystemSettings.load().language == "de" and fake_host.commands() == []
    assert 'id="system-stepup"' not in client_for(admin_user, stepped_up=True).get("/settings/system/").content.decode()


def test_the_network_page_and_api_are_refused_by_the_same_rule(admin_user, fake_host):
    body = json.dumps({"hostname": "stolen-name"})
    api = client_for(admin_user).put("/api/network/hostname/", body, content_type="application/json")
    assert (api.status_code, api.json()["code"], api.json()["detail"]) == (403, "stepup", STEPUP)
    page = client_for(admin_user).post("/network/hostname/", {"hostname": "stolen-name"})
    assert page.status_code == 403 and STEPUP in page.content.decode()
    assert unchanged(fake_host)


def test_the_service_itself_refuses_a_caller_without_a_request(admin_user, fake_host):
    with pytest.raises(SystemRefused) as refused:
        system_settings_update(user=admin_user, hostname="stolen-name")
    assert refused.value.code == "stepup"
    assert unchanged(fake_host)


def test_a_read_token_is_refused_and_a_full_token_stands_for_the_step_up(admin_user, fake_host):
    _row, read = api_token_create(user=admin_user, name="read", scope="read")
    body = json.dumps({"hostname": "script-name"})
    response = Client().patch(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert response.status_code == 403
    assert unchanged(fake_host)
    _row, full = api_token_create(user=admin_user, name="full", scope="full")
    response = Client().patch(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {full}")
    assert response.status_code == 200 and fake_host.file("/etc/hostname") == "script-name\n"
