"""What the apps services store (progress, errors, history, update reasons) is the English id with its parameters;
pages, the API and the JSON sockets show it in their reader's language, whoever wrote the row."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import translation

from accounts.models import APIToken
from accounts.services.language import user_language_set
from accounts.services.tokens import api_token_create
from apps.models import AppEvent, AppGrant, Installation
from apps.services.common import DETAIL_CHARS, InstallFailed, app_update
from apps.services.control import app_control, app_operation_run
from apps.services.lifecycle import app_cancel
from apps.services.pipeline import _Run
from apps.services.restart_loop import restart_loop_detail
from apps.services.status import app_status_of
from casaos_site.asgi import application
from casaos_site.i18n import deferred, shown
from runtime import ContainerInfo
from runtime import labels as L
from runtime.errors import ImageNotFound

S = Installation.Status
NOT_FOUND = deferred("The image %(image)s was not found in its registry.", image="web:1")
GERMAN = "Das Image web:1 wurde in seiner Registry nicht gefunden."
CHINESE = "在镜像仓库中找不到镜像 web:1。"


@pytest.fixture
def failed(db, app_name, member_user):
    app = Installation.objects.create(
        name=app_name, title="Web", compose="services: {}", status=S.FAILED, error=NOT_FOUND
    )
    AppGrant.objects.create(installation=app, user=member_user)
    return app


@pytest.mark.django_db
def test_a_cancel_asked_from_a_german_page_is_stored_in_english_and_read_in_chinese(admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose="services: {}", status=S.PENDING)
    with translation.override("de"):
        app_cancel(user=admin_user, installation=inst)
    inst.refresh_from_db()
    assert inst.error == "The install was cancelled."
    assert AppEvent.objects.get(installation=inst).message == "The install was cancelled."
    with translation.override("zh-hans"):
        assert shown(inst.error) == "安装已取消。"


def test_a_pull_failure_in_the_worker_is_kept_as_its_message_id():
    class Engine:
        def pull(self, image, on_event):
            raise ImageNotFound("manifest unknown")

    run = _Run.__new__(_Run)
    run.eng, run._stop = Engine(), False
    with translation.override("de"), pytest.raises(InstallFailed) as caught:
        run._pull_one("web:1", None)
    assert str(caught.value) == NOT_FOUND


def test_status_lines_are_message_ids_and_a_long_restart_loop_fits_its_column():
    stopped = ContainerInfo(id="1", name="a-web", image="x", state="exited", exit_code=3, labels={L.SERVICE: "web"})
    running = ContainerInfo(id="2", name="a-db", image="x", state="running", labels={L.SERVICE: "db"})
    with translation.override("de"):
        assert app_status_of([stopped, running])[1] == deferred("Not running: %(services)s", services="web")
    detail = restart_loop_detail({"web": {"exit_code": 1, "log": "ü" * 400}})
    assert len(detail) <= DETAIL_CHARS
    with translation.override("de"):
        assert shown(detail).startswith("Startet wiederholt neu: web")
        assert "%(" not in shown(detail)


def test_the_api_answers_a_failed_install_in_the_readers_language(failed, member_user):
    user_language_set(user=member_user, language="de")
    client = Client()
    client.force_login(member_user)
    assert client.get(f"/api/apps/{failed.pk}/").json()["error"] == GERMAN
    listed = client.get("/api/apps/").json()["results"]
    assert [app["error"] for app in listed] == [GERMAN]


def test_an_api_token_answers_in_its_owners_language(failed, member_user):
    user_language_set(user=member_user, language="zh-hans")
    raw = api_token_create(user=member_user, name="script", scope=APIToken.Scope.READ)[1]
    body = Client().get(f"/api/apps/{failed.pk}/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert body["error"] == CHINESE
    assert body["status_label"] == "失败"


def test_the_history_and_update_reason_are_answered_in_the_readers_language(failed, member_user):
    AppEvent.objects.create(installation=failed, operation="install", outcome="failed", message=NOT_FOUND)
    user_language_set(user=member_user, language="de")
    client = Client()
    client.force_login(member_user)
    assert client.get(f"/api/apps/{failed.pk}/history/").json()[0]["message"] == GERMAN


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_json_socket_speaks_its_users_language(redis_client, failed, member_user):
    user_language_set(user=member_user, language="zh-hans")
    client = Client()
    client.force_login(member_user)
    headers = [
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
    ]

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/apps/{failed.pk}/?format=json", headers=headers)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        first = json.loads(await socket.receive_from(timeout=5))
        with translation.override("de"):  # a German request (or a worker) writes and publishes the change
            await database_sync_to_async(app_update)(
                failed, status=S.PENDING, detail=deferred("Resuming after a restart…"), error=""
            )
        second = json.loads(await socket.receive_from(timeout=5))
        await socket.disconnect()
        return first["data"], second["data"]

    first, second = async_to_sync(scenario)()
    assert first["error"] == CHINESE
    assert second["detail"] == shown_in_chinese("Resuming after a restart…")
    assert second["status_label"] == shown_in_chinese("Queued")
    assert second["detail"] != "Resuming after a restart…"


def shown_in_chinese(message: str) -> str:
    with translation.override("zh-hans"):
        return shown(message)


NEEDS_A_SECRET = """
services:
  web:
    image: web:1
    environment:
      KEY: ${SECRET:?set a secret}
"""


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_a_refusal_raised_in_the_worker_is_read_in_each_readers_language(docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=NEEDS_A_SECRET, status=S.STOPPED)
    with translation.override("de"):  # asked from a German page; the worker that runs it has no language
        event = app_control(user=admin_user, installation=inst, action="start")
    app_operation_run(event_id=event.pk)
    inst.refresh_from_db()
    event.refresh_from_db()
    assert event.outcome == AppEvent.Outcome.FAILED and event.message == inst.error
    # A compose error met by the worker: our words translated, the parser's own (where and what) kept.
    said = {
        "en": "The compose document is not valid: services.web.environment.KEY: set a secret",
        "de": "Das Compose-Dokument ist ungültig: services.web.environment.KEY: set a secret",
        "zh-hans": "Compose 文档无效：services.web.environment.KEY: set a secret",  # noqa: RUF001 (full-width colon)
    }
    for language, text in said.items():
        with translation.override(language):
            assert shown(inst.error) == text
    user_language_set(user=admin_user, language="zh-hans")
    client = Client()
    client.force_login(admin_user)
    assert client.get(f"/api/apps/{inst.pk}/").json()["error"] == said["zh-hans"]


@pytest.mark.django_db
def test_a_compose_error_in_the_worker_keeps_the_parsers_words_inside_ours():
    from apps.services.common import error_stored
    from runtime.compose import ComposeError

    stored = error_stored(ComposeError("at least one service is required", "services"))
    with translation.override("de"):
        assert shown(stored) == "Das Compose-Dokument ist ungültig: services: at least one service is required"
    with translation.override("zh-hans"):
        assert shown(stored) == "Compose 文档无效：services: at least one service is required"  # noqa: RUF001


def test_the_runtimes_own_words_are_kept_as_a_message_id_and_the_engines_text_as_it_is():
    from apps.services.common import error_stored
    from runtime.docker import _map
    from runtime.errors import EngineError

    away = _map(FileNotFoundError(2, "No such file or directory"))
    assert away.message == "the engine does not answer (No such file or directory)"  # logs and runtime read English
    stored = deferred("The container engine does not answer (%(error)s).", error=error_stored(away))
    with translation.override("de"):
        assert (
            shown(stored)
            == "Die Container-Engine antwortet nicht (die Engine antwortet nicht (No such file or directory))."
        )
    with translation.override("zh-hans"):
        assert shown(error_stored(away)) == "引擎无响应（No such file or directory）"  # noqa: RUF001
    assert error_stored(EngineError("manifest unknown")) == "manifest unknown"  # the engine's own words
