"""A failed install is an app with two ways on: Retry (the same settings, the same checks as a new install) and
Remove. Its buttons follow its state, and its history says what failed and why (real Docker)."""

import re
import socket
import time

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import AppEvent, AppLock, Installation
from apps.services import InstallError, app_cancel, app_install, app_install_retry, app_install_run
from apps.services.common import ConsentRequired
from apps.services.control import app_control
from apps.services.operation import AppBusy
from casaos_site.i18n import shown
from runtime import labels as L
from tests.apps.conftest import BUSYBOX, HTTPD, NOTHING, leftovers

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
Outcome = AppEvent.Outcome
WEB = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
HOST_ACCESS = f"services:\n  tool:\n    image: {BUSYBOX}\n    command: ['sleep', '3600']\n    privileged: true\n"


@pytest.fixture
def failed(docker_engine, admin_user, app_name):
    """An install that failed because its web port was taken between the request and the start; the port is held
    until the test lets go of it (`failed.port_holder.close()`)."""
    inst = app_install(user=admin_user, compose=WEB, name=app_name)
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", inst.web_port))
    holder.listen()
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == S.FAILED and "port" in shown(inst.error), inst.error
    inst.port_holder = holder
    yield inst
    holder.close()


def _admin_client(user, *, stepped_up: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[STEPUP_SESSION_KEY] = time.time()
        session.save()
    return client


def _history(inst) -> list[tuple[str, str]]:
    return list(AppEvent.objects.filter(installation=inst).values_list("operation", "outcome"))


def test_the_history_records_a_failed_install_and_its_cause(failed):
    (line,) = AppEvent.objects.filter(installation=failed)
    assert (line.operation, line.outcome) == ("install", Outcome.FAILED)
    assert line.message == failed.error and "port" in shown(line.message)
    assert line.user is not None


def test_a_retry_runs_the_same_settings_again_once_the_cause_is_gone(failed, admin_user, docker_engine):
    before = Installation.objects.values("compose", "variables", "web_port").get(pk=failed.pk)
    failed.port_holder.close()

    inst = app_install_retry(user=admin_user, installation=failed)
    assert (inst.status, inst.attempts, inst.error) == (S.PENDING, 0, "")
    app_install_run(installation_id=inst.pk)

    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error
    assert Installation.objects.values("compose", "variables", "web_port").get(pk=inst.pk) == before
    assert _history(inst) == [("retry", Outcome.DONE), ("install", Outcome.FAILED)]  # newest first
    assert [c.running for c in docker_engine.list({L.APP: inst.name})] == [True]


def test_a_retry_passes_the_checks_of_a_new_install_and_changes_nothing_when_refused(failed, admin_user):
    with pytest.raises(InstallError, match=f"tcp/{failed.web_port} is already in use"):
        app_install_retry(user=admin_user, installation=failed)  # the port is still taken

    failed.refresh_from_db()
    assert failed.status == S.FAILED and _history(failed) == [("install", Outcome.FAILED)]


def test_only_a_failed_or_cancelled_install_can_be_retried(docker_engine, admin_user, app_name):
    inst = app_install(user=admin_user, compose=WEB, name=app_name)
    with pytest.raises(InstallError, match="Only a failed or cancelled install"):
        app_install_retry(user=admin_user, installation=inst)  # still queued

    app_cancel(user=admin_user, installation=inst)
    assert _history(inst) == [("install", Outcome.CANCELLED)]
    retried = app_install_retry(user=admin_user, installation=inst)
    assert retried.status == S.PENDING


def test_a_retry_of_an_app_with_host_access_needs_the_password_again(docker_engine, admin_user, app_name, stepped_up):
    inst = app_install(user=admin_user, compose=HOST_ACCESS, name=app_name, consent=True, request=stepped_up)
    Installation.objects.filter(pk=inst.pk).update(status=S.FAILED, error="it failed")

    with pytest.raises(ConsentRequired) as refused:
        app_install_retry(user=admin_user, installation=inst)  # no request with a fresh step-up
    assert refused.value.stepup
    assert Installation.objects.get(pk=inst.pk).status == S.FAILED

    assert app_install_retry(user=admin_user, installation=inst, request=stepped_up).status == S.PENDING


def test_starting_a_failed_install_says_what_to_do_instead(failed, admin_user):
    with pytest.raises(AppBusy, match=r"was not installed .*retry the install, or remove it"):
        app_control(user=admin_user, installation=failed, action="start")
    assert not AppLock.objects.exists()


def test_the_page_of_a_failed_install_offers_retry_and_remove_and_no_controls(failed, admin_user):
    client = _admin_client(admin_user)
    page = client.get(f"/apps/{failed.pk}/manage/").content.decode()
    for absent in ('id="start-app"', 'id="stop-app"', 'id="restart-app"', 'id="update-app"', 'id="open-app"'):
        assert absent not in page, absent
    assert 'id="retry-install"' in page and 'id="remove-app"' in page
    assert "Nothing has happened" not in page
    history = re.search(r'<table class="striped" id="history">.*?</table>', page, re.S).group(0)
    assert "install" in history and "Failed" in history and "port" in history

    progress = client.get(f"/apps/{failed.pk}/").content.decode()
    assert 'id="retry-install"' in progress and 'id="uninstall"' in progress and "Remove" in progress


def test_the_retry_button_queues_the_install_again(failed, admin_user):
    failed.port_holder.close()
    client = _admin_client(admin_user)
    response = client.post(f"/apps/{failed.pk}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == f"/apps/{failed.pk}/"
    assert Installation.objects.get(pk=failed.pk).status == S.PENDING
    assert AuditEvent.objects.filter(action="app.retry", target=failed.name).exists()


def test_retry_through_the_api(failed, admin_user, member_user):
    failed.port_holder.close()
    member = _admin_client(member_user)
    assert member.post(f"/api/apps/{failed.pk}/retry/").status_code == 403
    assert Installation.objects.get(pk=failed.pk).status == S.FAILED  # the member changed nothing

    response = _admin_client(admin_user).post(f"/api/apps/{failed.pk}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and response.json()["actions"] == ["cancel"]


def test_the_retry_button_needs_the_csrf_token(failed, admin_user):
    failed.port_holder.close()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(f"/apps/{failed.pk}/retry/").status_code == 403
    assert Installation.objects.get(pk=failed.pk).status == S.FAILED


def test_removing_a_failed_install_leaves_nothing(failed, admin_user, docker_engine):
    from apps.services import app_uninstall, app_uninstall_run

    app_uninstall(user=admin_user, installation=failed)
    assert app_uninstall_run(installation_id=failed.pk)
    assert not Installation.objects.filter(pk=failed.pk).exists()
    assert leftovers(docker_engine, failed.name) == NOTHING
