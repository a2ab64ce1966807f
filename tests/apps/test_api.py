"""The apps API: install (202 + id), status, cancel, uninstall; who may do what, and that refusals change nothing."""

import pytest

from accounts.models import AuditEvent
from apps.models import Installation
from tests.apps.conftest import BUSYBOX, HTTPD

pytestmark = pytest.mark.docker
S = Installation.Status

WEB = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
PRIVILEGED = f"services:\n  root:\n    image: {BUSYBOX}\n    privileged: true\n    volumes: ['/:/host']\n"


@pytest.fixture
def admin_api(client, admin_user, docker_engine):
    client.force_login(admin_user)
    return client


def _post(client, body):
    return client.post("/api/apps/", body, content_type="application/json")


def test_it_accepts_an_install_and_queues_it(admin_api, app_name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = _post(admin_api, {"compose": WEB, "name": app_name, "inputs": {"TZ": "Europe/Berlin"}})

    assert response.status_code == 202, response.content
    body = response.json()
    inst = Installation.objects.get(pk=body["id"])
    assert (inst.name, inst.status, inst.inputs) == (app_name, S.PENDING, {"TZ": "Europe/Berlin"})
    assert body["url"].endswith(f"/api/apps/{inst.pk}/")
    assert body["websocket"].endswith(f"/ws/apps/{inst.pk}/?format=json")
    assert body["web_port"] == inst.web_port and inst.web_port
    assert len(queued) == 2  # the task, then the first live event: both only once the row is committed
    assert AuditEvent.objects.filter(action="app.install", target=app_name).exists()


def test_it_shows_status_and_progress(admin_api, app_name):
    inst = Installation.objects.create(
        name=app_name,
        compose=WEB,
        status=S.PULLING,
        progress={
            "percent": 40.0,
            "current": 400,
            "total": 1000,
            "images": [{"image": HTTPD, "current": 400, "total": 1000}],
        },
    )
    body = admin_api.get(f"/api/apps/{inst.pk}/").json()
    assert body["status"] == "pulling" and body["in_progress"]
    assert body["progress"]["current"] == 400 and body["progress"]["images"][0]["image"] == HTTPD
    assert [s["state"] for s in body["steps"]] == ["done", "current", "todo", "todo", "todo"]
    listed = admin_api.get("/api/apps/").json()
    assert [a["name"] for a in listed["results"]] == [app_name]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"compose": "services: ["}, "not valid"),
        ({"compose": WEB, "name": "Bad Name"}, "not a valid app name"),
        ({"compose": WEB, "inputs": {"1BAD": "x"}}, "not a valid variable"),
    ],
)
def test_it_refuses_bad_requests_and_changes_nothing(admin_api, body, message):
    response = _post(admin_api, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Installation.objects.exists()


def test_a_member_may_read_but_not_install(client, member_user, docker_engine, app_name):
    client.force_login(member_user)
    assert client.get("/api/apps/").status_code == 200
    response = _post(client, {"compose": WEB, "name": app_name})
    assert response.status_code == 403
    assert not Installation.objects.exists()
    assert not AuditEvent.objects.filter(action="app.install").exists()


def test_a_member_may_not_uninstall_or_cancel(client, member_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)
    client.force_login(member_user)
    assert client.delete(f"/api/apps/{inst.pk}/").status_code == 403
    assert client.post(f"/api/apps/{inst.pk}/cancel/").status_code == 403
    inst.refresh_from_db()
    assert (inst.status, inst.cancel_requested) == (S.RUNNING, False)


def test_anonymous_callers_get_nothing(client, db):
    assert client.get("/api/apps/").status_code in (401, 403)
    assert _post(client, {"compose": WEB}).status_code in (401, 403)
    assert not Installation.objects.exists()


def test_host_access_needs_consent_then_step_up(admin_api, app_name):
    response = _post(admin_api, {"compose": PRIVILEGED, "name": app_name})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "consent" and not body["stepup"]
    assert any("privileged" in flag for flag in body["flags"])
    assert not Installation.objects.exists()

    response = _post(admin_api, {"compose": PRIVILEGED, "name": app_name, "consent": True})
    assert response.status_code == 400 and response.json()["code"] == "consent"  # the whole disk must be named
    assert [(f["value"], f["explicit"]) for f in response.json()["findings"]] == [("/", True)]
    assert not Installation.objects.exists()

    response = _post(admin_api, {"compose": PRIVILEGED, "name": app_name, "consent": True, "consent_paths": ["/"]})
    assert response.status_code == 403 and response.json()["stepup"]
    assert not Installation.objects.exists()


def test_host_access_installs_with_consent_and_a_fresh_step_up(admin_api, app_name):
    import time

    from accounts.permissions import STEPUP_SESSION_KEY

    session = admin_api.session
    session[STEPUP_SESSION_KEY] = time.time()
    session.save()
    response = _post(admin_api, {"compose": PRIVILEGED, "name": app_name, "consent": True, "consent_paths": ["/"]})
    assert response.status_code == 202, response.content


def test_delete_queues_an_uninstall(admin_api, app_name, django_capture_on_commit_callbacks):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)
    with django_capture_on_commit_callbacks() as queued:
        response = admin_api.delete(f"/api/apps/{inst.pk}/")
    assert response.status_code == 202
    inst.refresh_from_db()
    assert inst.status == S.REMOVING and not inst.delete_data
    assert len(queued) == 2
    assert AuditEvent.objects.filter(action="app.uninstall", target=app_name).exists()


def test_deleting_data_needs_a_step_up(admin_api, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)
    response = admin_api.delete(f"/api/apps/{inst.pk}/?delete_data=true")
    assert response.status_code == 403
    inst.refresh_from_db()
    assert inst.status == S.RUNNING


def test_an_install_in_progress_cannot_be_deleted_but_can_be_cancelled(admin_api, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.PULLING)
    assert admin_api.delete(f"/api/apps/{inst.pk}/").status_code == 400
    response = admin_api.post(f"/api/apps/{inst.pk}/cancel/")
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True
    assert Installation.objects.get(pk=inst.pk).cancel_requested


def test_the_schema_documents_the_endpoints(admin_api):
    schema = admin_api.get("/api/schema/").content
    assert b"/api/apps/{id}/" in schema and b"/api/apps/{id}/cancel/" in schema


def test_an_install_with_the_engine_down_is_a_503_not_a_client_error(admin_api, app_name, settings, tmp_path):
    settings.ENGINE_URL = f"unix://{tmp_path}/no-engine.sock"
    response = _post(admin_api, {"compose": WEB, "name": app_name})

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "engine" and "does not answer" in response.json()["detail"]
    assert not Installation.objects.exists()
