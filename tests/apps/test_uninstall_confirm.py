"""Deleting an app's data: the confirmation names what goes and re-checks the password every time (page), a
fresh step-up or a full-scope token (API); the install page's Uninstall never deletes data."""

import pytest
from django.test import Client

from accounts.models import APIToken, AuditEvent
from accounts.permissions import STEPUP_SESSION_KEY
from accounts.services.tokens import api_token_create
from apps.models import AppEvent, Installation
from tests.apps.conftest import HTTPD
from tests.apps.conftest import install_running as install
from tests.factories import PASSWORD

S = Installation.Status
WEB = f"services:\n  web:\n    image: {HTTPD}\n"


def stepped_up(user) -> Client:
    """A session that is stepped up already (a fresh login counts as one): the page must still ask."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[STEPUP_SESSION_KEY] = 9e12
    session.save()
    return client


def data_app(data_root, media) -> str:
    return (
        f"services:\n  web:\n    image: {HTTPD}\n    volumes:\n      - data:/data\n"
        f"      - {data_root}/${{AppID}}/config:/config\n      - {media}:/media\n      - /cache\n"
        "volumes:\n  data: {}\n"
    )


@pytest.fixture
def running(db, app_name):
    return Installation.objects.create(name=app_name, compose=WEB, status=S.RUNNING)


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_the_confirmation_names_the_volumes_and_the_folder_it_would_delete(
    admin_user, docker_engine, app_name, registry, settings, tmp_path
):
    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    settings.FILES_ROOT = tmp_path  # the media folder is the admin's to give
    media = tmp_path / "Media"
    media.mkdir()
    inst = install(admin_user, data_app(settings.APPS_DATA_ROOT, media), app_name)
    page = stepped_up(admin_user).get(f"/apps/{inst.pk}/manage/").content.decode()
    confirm = page[page.index('id="uninstall-dialog"') :]
    assert f"<code>{app_name}_data</code>" in confirm
    assert f"<code>{settings.APPS_DATA_ROOT / app_name}</code>" in confirm
    assert "1 unnamed volume of its containers" in confirm
    assert "Kept, because they are not this app's own:" in confirm and f"<code>{media}</code>" in confirm
    assert 'name="password"' in confirm and 'data-confirm-if="delete-data"' in confirm


def test_deleting_data_from_the_page_asks_for_the_password_even_right_after_a_step_up(
    admin_user, running, django_capture_on_commit_callbacks
):
    client = stepped_up(admin_user)
    url = f"/apps/{running.pk}/remove/"
    for body, words in (
        ({"delete_data": "on"}, "Enter your password to confirm. Nothing was removed."),
        ({"delete_data": "on", "password": "not it"}, "That password or code is not right. Nothing was removed."),
    ):
        response = client.post(url, body, follow=True)
        assert words in response.content.decode()
        assert not AppEvent.objects.exists() and Installation.objects.get(pk=running.pk).status == S.RUNNING
    assert AuditEvent.objects.filter(action="stepup.failure", target="admin").count() == 1

    with django_capture_on_commit_callbacks():
        response = client.post(url, {"delete_data": "on", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/apps/"
    event = AppEvent.objects.get(installation=running, operation="uninstall")
    assert event.details["delete_data"] is True
    assert AuditEvent.objects.filter(action="stepup.success", target="admin").exists()


def test_uninstalling_without_deleting_data_needs_no_password(admin_user, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = stepped_up(admin_user).post(f"/apps/{running.pk}/remove/", {})
    assert response.status_code == 302
    assert AppEvent.objects.get(installation=running).details["delete_data"] is False


def test_the_install_pages_uninstall_keeps_the_data_whatever_is_posted(admin_user, running):
    response = stepped_up(admin_user).post(f"/apps/{running.pk}/uninstall/", {"delete_data": "on"})
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.status == S.REMOVING and not running.delete_data


@pytest.mark.parametrize("how", ["uninstall", "delete"])
def test_the_api_needs_a_step_up_or_a_full_token_to_delete_data(
    admin_user, running, how, django_capture_on_commit_callbacks
):
    def call(client, **headers):
        if how == "delete":
            return client.delete(f"/api/apps/{running.pk}/?delete_data=true", **headers)
        return client.post(
            f"/api/apps/{running.pk}/uninstall/", {"delete_data": True}, content_type="application/json", **headers
        )

    session = Client()
    session.force_login(admin_user)  # logged in, no fresh step-up
    refused = call(session)
    assert refused.status_code == 403 and refused.json()["code"] == "stepup"
    assert "step-up" in refused.json()["detail"]
    read = api_token_create(user=admin_user, name="r", scope=APIToken.Scope.READ)[1]
    assert call(Client(), HTTP_AUTHORIZATION=f"Bearer {read}").status_code == 403
    running.refresh_from_db()
    assert running.status == S.RUNNING and not AppEvent.objects.exists()

    full = api_token_create(user=admin_user, name="f", scope=APIToken.Scope.FULL)[1]
    with django_capture_on_commit_callbacks():
        assert call(Client(), HTTP_AUTHORIZATION=f"Bearer {full}").status_code == 202
    running.refresh_from_db()
    deleting = running.delete_data if how == "delete" else AppEvent.objects.get().details["delete_data"]
    assert deleting is True


def test_the_token_page_asks_before_revoking_and_names_the_token(member_user):
    row, _raw = api_token_create(user=member_user, name="grafana", scope=APIToken.Scope.READ)
    client = Client()
    client.force_login(member_user)
    page = client.get("/settings/tokens/").content.decode()
    assert f'data-confirm="Revoke the token “grafana” ({row.prefix}…)?' in page
    assert 'data-confirm-ok="Revoke"' in page and 'id="confirm-dialog"' in page


def test_a_hostile_token_name_stays_text_in_the_confirmation(member_user):
    api_token_create(user=member_user, name='"><img src=x onerror=alert(1)>', scope=APIToken.Scope.READ)
    client = Client()
    client.force_login(member_user)
    page = client.get("/settings/tokens/").content.decode()
    assert "<img src=x" not in page and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("path, queue", [("remove/", "long"), ("control/stop/", "celery")])
def test_an_uninstall_goes_to_the_long_queue_and_a_stop_to_the_default_one(
    admin_user, running, django_capture_on_commit_callbacks, monkeypatch, path, queue
):
    # An uninstall stops every container gracefully: it must not take the slot a start or stop is waiting for.
    from apps import tasks

    sent = []
    monkeypatch.setattr(tasks.app_operation, "apply_async", lambda args, **options: sent.append(options["queue"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = stepped_up(admin_user).post(f"/apps/{running.pk}/{path}", {})
    assert response.status_code in (200, 302)
    assert sent == [queue]
