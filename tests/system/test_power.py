"""Restart and shut down: admins only, a fresh step-up and the host name typed; the argv the host would run.

The tests' SYSTEM_HOST_WRAPPER records systemctl's argv instead of running it: nothing here restarts the machine.
"""

import json

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.services.tokens import api_token_create
from tests.system.conftest import client_for

pytestmark = pytest.mark.django_db
ACTIONS = [("restart", "reboot"), ("shutdown", "poweroff")]


def post(client, action, body, **headers):
    return client.post(f"/api/system/{action}/", json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize(("action", "verb"), ACTIONS)
def test_it_runs_systemctl_after_step_up_and_the_typed_name(admin_user, fake_host, action, verb):
    response = post(client_for(admin_user, stepped_up=True), action, {"confirm": "casa-test"})
    assert response.status_code == 202, response.content
    assert fake_host.commands() == [["systemctl", verb]]
    event = AuditEvent.objects.get(action=f"system.{action}")
    assert event.actor == admin_user and event.target == "casa-test"


@pytest.mark.parametrize(("action", "verb"), ACTIONS)
def test_without_step_up_nothing_runs(admin_user, fake_host, action, verb):
    response = post(client_for(admin_user), action, {"confirm": "casa-test"})
    assert response.status_code == 403
    assert response.json()["code"] == "stepup"
    assert fake_host.commands() == [] and not AuditEvent.objects.filter(action=f"system.{action}").exists()


@pytest.mark.parametrize("typed", ["", "casa", "CASA-TEST", "reboot"])
@pytest.mark.parametrize(("action", "verb"), ACTIONS)
def test_without_the_typed_name_nothing_runs(admin_user, fake_host, action, verb, typed):
    response = post(client_for(admin_user, stepped_up=True), action, {"confirm": typed})
    assert response.status_code == 400
    assert response.json()["code"] == "confirm" and "casa-test" in response.json()["detail"]
    assert fake_host.commands() == []


@pytest.mark.parametrize(("action", "verb"), ACTIONS)
def test_members_strangers_and_forged_posts_are_refused(admin_user, member_user, fake_host, action, verb):
    assert post(client_for(member_user, stepped_up=True), action, {"confirm": "casa-test"}).status_code == 403
    assert post(Client(), action, {"confirm": "casa-test"}).status_code in (401, 403)
    forged = post(client_for(admin_user, stepped_up=True, csrf=True), action, {"confirm": "casa-test"})
    assert forged.status_code == 403
    assert fake_host.commands() == []


def test_a_full_token_stands_for_step_up_and_a_read_token_does_not(admin_user, fake_host):
    _token, full = api_token_create(user=admin_user, name="ops", scope="full")
    _token, read = api_token_create(user=admin_user, name="look", scope="read")
    assert post(Client(), "restart", {"confirm": "casa-test"}, HTTP_AUTHORIZATION=f"Bearer {read}").status_code == 403
    assert fake_host.commands() == []
    assert post(Client(), "restart", {"confirm": "casa-test"}, HTTP_AUTHORIZATION=f"Bearer {full}").status_code == 202
    assert fake_host.commands() == [["systemctl", "reboot"]]


def test_a_host_that_refuses_answers_503_with_its_words(admin_user, fake_host, settings):
    settings.SYSTEM_HOST_WRAPPER = ["false"]
    response = post(client_for(admin_user, stepped_up=True), "restart", {"confirm": "casa-test"})
    assert response.status_code == 503 and response.json()["code"] == "host"


# ---------------------------------------------------------------------------- the page
@pytest.mark.parametrize(("action", "verb"), ACTIONS)
def test_the_page_forms_run_it_after_step_up(admin_user, fake_host, action, verb):
    response = client_for(admin_user, stepped_up=True).post(f"/settings/system/{action}/", {"confirm": "casa-test"})
    assert response.status_code == 200
    assert fake_host.commands() == [["systemctl", verb]]


def test_the_page_without_step_up_says_so_and_runs_nothing(admin_user, fake_host):
    client = client_for(admin_user)
    response = client.post("/settings/system/restart/", {"confirm": "casa-test"}, follow=True)
    assert "step-up" in response.content.decode()
    assert fake_host.commands() == []
    page = client.get("/settings/system/").content.decode()
    assert "Confirm your password" in page and 'class="danger" disabled' in page
