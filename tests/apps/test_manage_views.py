"""Pages, API, websockets of installed apps: what admins and members reach, logs and terminal over websockets."""

import asyncio
import json
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import AppEvent, AppGrant, AppLock, Installation
from apps.services.export import app_export
from apps.services.foreign import describe
from casaos_site.asgi import application
from runtime import labels as L
from runtime.compose import load_project, load_yaml
from tests.apps.conftest import BUSYBOX, HTTPD, install_running

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status

WEB = f"""
x-casaos: {{title: {{en_us: Web}}, index: /index.html}}
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment: {{GREETING: hi, DB_PASSWORD: "s3cr3t$$x"}}
  ticker:
    image: {BUSYBOX}
    command: ["sh", "-c", "while true; do echo tick-$$RANDOM; sleep 0.2; done"]
    stop_grace_period: 1s
"""


@pytest.fixture
def app(docker_engine, admin_user, app_name) -> Installation:
    return install_running(admin_user, WEB, app_name)


def client_for(user, *, stepped_up: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[STEPUP_SESSION_KEY] = time.time()
        session.save()
    return client


def test_it_shows_an_admin_every_page_with_secrets_masked(app, admin_user):
    client = client_for(admin_user)
    assert f"tile-{app.pk}" in client.get("/apps/").content.decode()
    page = client.get(f"/apps/{app.pk}/manage/").content.decode()
    assert "GREETING" in page and "DB_PASSWORD" in page and "s3cr3t" not in page
    for path in ("settings", "logs", "stats", "grants", "manage/card"):
        assert client.get(f"/apps/{app.pk}/{path}/").status_code == 200, path
    assert "s3cr3t" in client.get(f"/apps/{app.pk}/settings/").content.decode()  # the admin edits the real value


def test_it_opens_a_running_app_on_the_host_the_browser_used(app, admin_user):
    response = client_for(admin_user).get(f"/apps/{app.pk}/open/", HTTP_HOST="casa.local:8000")
    assert response.status_code == 302
    assert response["Location"] == f"http://casa.local:{app.web_port}/index.html"


def test_a_member_sees_and_controls_only_granted_apps(app, member_user):
    client = client_for(member_user)
    assert f"tile-{app.pk}" not in client.get("/apps/").content.decode()
    for url in (
        f"/apps/{app.pk}/manage/",
        f"/apps/{app.pk}/open/",
        f"/api/apps/{app.pk}/info/",
        f"/api/apps/{app.pk}/stats/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/apps/{app.pk}/control/start/").status_code == 404
    assert client.post(f"/api/apps/{app.pk}/stop/").status_code == 404
    assert not AppEvent.objects.exclude(operation="install").exists() and not AppLock.objects.exists()  # none queued

    AppGrant.objects.create(installation=app, user=member_user)
    assert f"tile-{app.pk}" in client.get("/apps/").content.decode()
    assert client.get(f"/api/apps/{app.pk}/info/").status_code == 200
    assert client.post(f"/api/apps/{app.pk}/stop/").status_code == 403  # granted apps: open and start only
    assert client.get(f"/apps/{app.pk}/logs/").status_code == 403
    assert not AppEvent.objects.exclude(operation="install").exists()


def test_the_api_answers_busy_while_an_operation_runs(app, admin_user):
    client = client_for(admin_user)
    first = client.post(f"/api/apps/{app.pk}/restart/")
    assert first.status_code == 202

    second = client.post(f"/api/apps/{app.pk}/stop/")
    assert second.status_code == 409 and second.json()["code"] == "busy"
    assert AppEvent.objects.exclude(operation="install").count() == 1


def test_it_exports_a_compose_file_compose_accepts(app):
    text = app_export(installation=app)
    # No variables left to fill in: the file stands on its own. No `name:` (Compose 1.x refuses it): -p names it.
    project = load_project(text, variables={}, project_name=app.name)
    assert "name" not in load_yaml(text) and f"-p {app.name} " in text.splitlines()[0]
    web = project.container("web")
    assert web.env["DB_PASSWORD"] == "s3cr3t$x" and web.ports[0].published == app.web_port


def test_it_describes_a_foreign_container_as_compose(docker_engine):
    raw = {
        "Config": {"Image": "nginx:1", "Env": ["A=1", "P=a$b"], "Cmd": ["nginx"]},
        "HostConfig": {
            "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8088"}]},
            "RestartPolicy": {"Name": "unless-stopped"},
        },
        "Mounts": [
            {"Type": "bind", "Source": "/srv/site", "Destination": "/usr/share/nginx/html", "RW": False},
            {"Type": "volume", "Name": "a" * 64, "Destination": "/cache", "RW": True},
        ],
    }
    tree = describe(raw, service="site")
    svc = tree["services"]["site"]
    assert svc["ports"] == ["8088:80"] and svc["restart"] == "unless-stopped"
    assert svc["environment"] == {"A": "1", "P": "a$$b"}
    assert svc["volumes"] == ["/srv/site:/usr/share/nginx/html:ro", "volume1:/cache"]
    assert tree["volumes"] == {"volume1": {"external": True, "name": "a" * 64}}


async def _connect(path: str, user, *, stepped_up: bool = False):
    from channels.db import database_sync_to_async

    session = await database_sync_to_async(lambda: client_for(user, stepped_up=stepped_up).session)()
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    communicator.scope["session"] = session
    return communicator


def test_the_logs_websocket_delivers_lines(app, admin_user, member_user):
    async def scenario():
        member = await _connect(f"/ws/apps/{app.pk}/logs/?service=ticker&tail=5", member_user)
        connected, _code = await member.connect()
        assert not connected

        comm = await _connect(f"/ws/apps/{app.pk}/logs/?service=ticker&tail=5", admin_user)
        connected, _code = await comm.connect()
        assert connected
        lines = []
        deadline = time.monotonic() + 10
        while len(lines) < 8 and time.monotonic() < deadline:
            lines += json.loads(await comm.receive_from(timeout=5))["lines"]
        await comm.disconnect()
        return lines

    lines = asyncio.run(scenario())
    assert len(lines) >= 8 and all(line.startswith("tick-") for line in lines)


def test_the_terminal_needs_an_admin_with_a_fresh_step_up(app, admin_user):
    async def scenario():
        stale = await _connect(f"/ws/apps/{app.pk}/terminal/web/", admin_user)
        connected, code = await stale.connect()
        assert not connected and code == 4412

        comm = await _connect(f"/ws/apps/{app.pk}/terminal/web/", admin_user, stepped_up=True)
        connected, _code = await comm.connect()
        assert connected
        await comm.send_to(bytes_data=b"echo hello-$((6*7))\n")
        output = b""
        deadline = time.monotonic() + 10
        while b"hello-42" not in output and time.monotonic() < deadline:
            output += (await comm.receive_output(timeout=5)).get("bytes") or b""
        await comm.disconnect()
        return output

    assert b"hello-42" in asyncio.run(scenario())


def test_adopted_names_are_ours_only_via_labels(docker_engine, app):
    ours = {c.id for c in docker_engine.list({L.APP: app.name})}
    from apps.services.foreign import foreign_list

    assert not ours & {c.id for c in foreign_list(eng=docker_engine)}


def test_opening_a_stopped_app_starts_it_then_redirects(app, admin_user, member_user):
    from apps.services.control import app_control, app_operation_run

    AppGrant.objects.create(installation=app, user=member_user)
    app_operation_run(event_id=app_control(user=admin_user, installation=app, action="stop").pk)
    client = client_for(member_user)
    page = client.get(f"/apps/{app.pk}/open/").content.decode()
    assert 'id="start-and-open"' in page

    client.post(f"/apps/{app.pk}/open/")
    event = AppEvent.objects.get(installation=app, operation="start")
    state = client.get(f"/apps/{app.pk}/open/state/", HTTP_HX_REQUEST="true")
    assert state.status_code == 200 and "HX-Redirect" not in state  # still starting: keep waiting
    app_operation_run(event_id=event.pk)
    state = client.get(f"/apps/{app.pk}/open/state/", HTTP_HX_REQUEST="true", HTTP_HOST="casa.local")
    assert state.status_code == 204 and state["HX-Redirect"] == f"http://casa.local:{app.web_port}/index.html"


def test_it_downloads_the_last_log_lines_and_the_browsable_api_renders(app, admin_user, docker_engine):
    (ticker,) = docker_engine.list({L.APP: app.name, L.SERVICE: "ticker"})
    deadline = time.monotonic() + 10
    while len(list(docker_engine.logs(ticker.id, tail=5))) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    client = client_for(admin_user)
    response = client.get(f"/apps/{app.pk}/logs/download/?service=ticker&lines=3")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Disposition"].startswith("attachment") and len(lines) == 3
    assert all("tick-" in line for line in lines)
    html = client.get(f"/api/apps/{app.pk}/info/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and b"DB_PASSWORD" in html.content and b"s3cr3t" not in html.content
