"""The app page's container list follows the engine: a container killed outside shows as exited, pushed over the
page's socket by the events listener's status change, and in the card the page polls without a socket (real Docker)."""

import asyncio
import subprocess
import time

import pytest
from channels.db import database_sync_to_async

from apps.models import Installation
from apps.services import app_status_refresh
from apps.services.common import app_publish_flush
from tests.apps.conftest import install_running
from tests.apps.test_control import TWO
from tests.apps.test_manage_views import _connect, client_for

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status


@pytest.fixture
def app(docker_engine, admin_user, app_name) -> Installation:
    return install_running(admin_user, TWO, app_name)  # web depends on db; only web gets killed


def kill_web(docker_engine, app: Installation) -> None:
    """`docker kill` from outside, then what the events listener does on each event until the app is degraded."""
    subprocess.run(["docker", "kill", f"{app.name}-web-1"], check=True, capture_output=True)
    deadline = time.monotonic() + 10
    while app_status_refresh(eng=docker_engine, name=app.name).status != S.DEGRADED:
        assert time.monotonic() < deadline, "the killed container never showed as stopped"
        time.sleep(0.1)
    app_publish_flush()


def state_badge(html: str, service: str) -> str:
    start = html.index(f'id="container-state-{service}"')
    return html[html.rindex("<span", 0, start) : html.index("</span>", start)]


def test_the_page_socket_pushes_the_killed_container_as_exited(docker_engine, app, admin_user):
    async def scenario():
        comm = await _connect(f"/ws/apps/{app.pk}/live/", admin_user)
        connected, _code = await comm.connect()
        assert connected
        await database_sync_to_async(kill_web)(docker_engine, app)
        html = ""
        while "badge-degraded" not in html:  # skip a late push of the install, if any
            html = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return html

    html = asyncio.run(scenario())
    web, db = state_badge(html, "web"), state_badge(html, "db")
    assert 'data-container-state="exited"' in web and "badge-exited" in web and 'hx-swap-oob="true"' in web
    assert 'data-container-state="running"' in db and 'hx-swap-oob="true"' in db  # the other one is untouched
    assert 'id="app-card"' in html and "badge-degraded" in html


def test_the_polled_card_carries_the_container_states_too(docker_engine, app, admin_user):
    client = client_for(admin_user)
    page = client.get(f"/apps/{app.pk}/manage/").content.decode()
    assert 'data-container-state="running"' in state_badge(page, "web")
    assert "hx-swap-oob" not in state_badge(page, "web")  # in place on the page itself

    kill_web(docker_engine, app)
    card = client.get(f"/apps/{app.pk}/manage/card/").content.decode()
    assert 'data-container-state="exited"' in state_badge(card, "web") and "hx-swap-oob" in state_badge(card, "web")
    assert 'data-container-state="exited"' in state_badge(client.get(f"/apps/{app.pk}/manage/").content.decode(), "web")
