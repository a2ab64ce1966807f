"""The apps pages: list, custom install form, progress view; members read, admins act."""

import pytest

from apps.models import AppGrant, Installation
from tests.apps.conftest import HTTPD

pytestmark = pytest.mark.docker
S = Installation.Status
WEB = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"


def test_the_list_shows_apps_with_their_status(client, admin_user, member_user, app_name):
    Installation.objects.create(name=app_name, title="My Web", compose=WEB, status=S.RUNNING, web_port=18080)
    client.force_login(admin_user)
    body = client.get("/apps/list/").content.decode()
    assert "My Web" in body and 'data-status="running"' in body
    assert 'ws-connect="/ws/apps/"' in body
    assert ":18080/" in body
    client.force_login(member_user)
    assert 'id="install-custom"' not in client.get("/apps/list/").content.decode()  # members do not install


def test_an_admin_installs_from_the_form(client, admin_user, docker_engine, app_name):
    client.force_login(admin_user)
    assert client.get("/apps/install/").status_code == 200
    response = client.post("/apps/install/", {"compose": WEB, "name": app_name, "inputs": "TZ=UTC\n# comment\n"})
    inst = Installation.objects.get(name=app_name)
    assert response.status_code == 302 and response["Location"] == f"/apps/{inst.pk}/"
    assert inst.inputs == {"TZ": "UTC"}


def test_the_form_shows_why_an_install_is_refused(client, admin_user, docker_engine):
    client.force_login(admin_user)
    response = client.post("/apps/install/", {"compose": "services:\n  a:\n    image: x\n    build: .\n"})
    assert response.status_code == 200
    assert "build" in response.content.decode()
    assert not Installation.objects.exists()


def test_the_form_asks_for_consent_on_host_access(client, admin_user, docker_engine, app_name):
    client.force_login(admin_user)
    compose = f"services:\n  a:\n    image: {HTTPD}\n    network_mode: host\n"
    body = client.post("/apps/install/", {"compose": compose, "name": app_name}).content.decode()
    assert "host network" in body and 'name="consent"' in body
    assert not Installation.objects.exists()


def test_a_member_cannot_reach_the_install_form(client, member_user):
    client.force_login(member_user)
    assert client.get("/apps/install/").status_code == 403
    assert client.post("/apps/install/", {"compose": WEB}).status_code == 403
    assert not Installation.objects.exists()


def test_the_progress_page_shows_steps_and_bytes(client, member_user, app_name):
    inst = Installation.objects.create(
        name=app_name,
        compose=WEB,
        status=S.PULLING,
        progress={
            "percent": 25.0,
            "current": 1048576,
            "total": 4194304,
            "images": [{"image": HTTPD, "current": 1048576, "total": 4194304, "percent": 25.0, "done": False}],
        },
    )
    AppGrant.objects.create(installation=inst, user=member_user)  # members read the apps granted to them
    client.force_login(member_user)
    body = client.get(f"/apps/{inst.pk}/").content.decode()
    assert f'ws-connect="/ws/apps/{inst.pk}/"' in body
    assert 'aria-current="step"' in body and "1.0\xa0MB / 4.0\xa0MB" in body
    assert 'id="app-progress-bar" value="25"' in body
    fragment = client.get(f"/apps/{inst.pk}/state/").content.decode()
    assert fragment.lstrip().startswith('<article id="app-install"')


def test_a_failed_install_shows_its_error_after_a_reload(client, member_user, app_name):
    inst = Installation.objects.create(
        name=app_name,
        compose=WEB,
        status=S.FAILED,
        error="The image was not found.",
        progress={"stopped_at": "pulling"},
    )
    AppGrant.objects.create(installation=inst, user=member_user)
    client.force_login(member_user)
    body = client.get(f"/apps/{inst.pk}/").content.decode()
    assert "The image was not found." in body and "step-stopped" in body


def test_an_admin_cancels_from_the_page(client, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.PULLING)
    client.force_login(admin_user)
    response = client.post(f"/apps/{inst.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Cancelling" in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).cancel_requested


def test_a_member_cannot_cancel_or_uninstall(client, member_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)
    client.force_login(member_user)
    assert client.post(f"/apps/{inst.pk}/uninstall/").status_code == 403
    assert client.post(f"/apps/{inst.pk}/cancel/").status_code == 403
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING


def test_an_admin_uninstalls_from_the_page(client, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)
    client.force_login(admin_user)
    response = client.post(f"/apps/{inst.pk}/uninstall/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == "/apps/"
    assert Installation.objects.get(pk=inst.pk).status == S.REMOVING
