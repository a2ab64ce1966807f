"""Installing changes the machine: admins, or members an admin allowed to ("may install apps"), on every path
(store page and API, compose and docker run, the service itself); what such a member installs is theirs to see."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from apps.models import AppGrant, Installation
from apps.services import InstallError, app_install
from apps.services.policy import app_data_folder
from appstore.models import CatalogApp
from tests.apps.conftest import HTTPD
from tests.appstore.conftest import ODD_STORE, allow_lan, make_store, sync  # noqa: F401 (allow_lan: a fixture)
from tests.conftest import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.docker]
REFUSED = "Installing apps needs an administrator"
WEB = f"services:\n  web:\n    image: {HTTPD}\n"


@pytest.fixture
def odd(db, allow_lan):  # noqa: F811 (a folder store needs the switch that allows stores on this machine)
    store = sync(make_store(path=str(ODD_STORE), name="Odd store"))
    return {app.store_app_id: app for app in CatalogApp.objects.filter(store=store)}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_without_the_right_is_refused_on_every_install_path(member_user, odd, app_name):
    client = logged_in(member_user)
    hello = odd["hello"]
    api = client.post(reverse("api-catalog-install", args=[hello.pk]), {"name": app_name}, "application/json")
    assert api.status_code == 403 and REFUSED in api.json()["detail"]
    assert client.get(reverse("appstore-install", args=[hello.pk])).status_code == 403
    assert client.post(reverse("appstore-install", args=[hello.pk]), {"name": app_name}).status_code == 403
    compose = client.post(reverse("api-apps"), {"compose": WEB, "name": app_name}, "application/json")
    assert compose.status_code == 403 and REFUSED in compose.json()["detail"]
    custom = client.post(reverse("api-apps-custom"), {"compose": WEB, "name": app_name}, "application/json")
    assert custom.status_code == 403 and REFUSED in custom.json()["detail"]
    for page in ("app-install", "apps-custom"):
        assert client.get(reverse(page)).status_code == 403
    assert "Ask an administrator" in client.get(reverse("appstore-app", args=[hello.pk])).content.decode()
    assert not Installation.objects.exists() and not AuditEvent.objects.filter(action="app.install").exists()


def test_the_installer_refuses_a_member_without_the_right_whoever_calls_it(member_user, docker_engine, app_name):
    with pytest.raises(InstallError) as refused:
        app_install(user=member_user, compose=WEB, name=app_name)
    assert refused.value.code == "forbidden" and REFUSED in refused.value.messages[0]
    with pytest.raises(InstallError):
        app_install(user=None, compose=WEB, name=app_name)
    assert not Installation.objects.exists()


def test_a_member_with_the_right_installs_from_the_store_and_then_sees_the_app(
    installer_user, member_user, odd, docker_engine, app_name, django_capture_on_commit_callbacks
):
    client = logged_in(installer_user)
    hello = odd["hello"]
    assert 'id="install-button"' in client.get(reverse("appstore-app", args=[hello.pk])).content.decode()
    with django_capture_on_commit_callbacks():  # queued on commit; the pipeline itself is tested elsewhere
        response = client.post(
            reverse("api-catalog-install", args=[hello.pk]),
            {"name": app_name, "values": {"port__web__0": str(free_port())}},
            "application/json",
        )
    assert response.status_code == 202, response.content
    inst = Installation.objects.get(pk=response.json()["id"])
    assert list(AppGrant.objects.filter(installation=inst).values_list("user__username", flat=True)) == ["installer"]
    assert client.get(reverse("app-detail", args=[inst.pk])).status_code == 200  # not a 404
    assert client.get(reverse("api-app-detail", args=[inst.pk])).json()["name"] == app_name
    assert [a["name"] for a in client.get(reverse("api-apps")).json()["results"]] == [app_name]
    assert logged_in(member_user).get(reverse("app-detail", args=[inst.pk])).status_code == 404  # nobody else's
    event = AuditEvent.objects.get(action="app.install", target=app_name)
    assert event.actor == installer_user and event.details["granted_to"] == "installer"


def test_a_member_with_the_right_installs_through_the_page_and_lands_on_its_progress(
    installer_user, odd, docker_engine, app_name, django_capture_on_commit_callbacks
):
    client = logged_in(installer_user)
    form = client.get(reverse("appstore-install", args=[odd["hello"].pk])).context["form"]
    data = {**{f.key: f.initial for f in form.install_fields}, "name": app_name, "port__web__0": str(free_port())}
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("appstore-install", args=[odd["hello"].pk]), data)
    inst = Installation.objects.get(name=app_name)
    assert response.status_code == 302 and response["Location"] == reverse("app-detail", args=[inst.pk])
    assert client.get(response["Location"]).status_code == 200
    # The folders prefilled for the template's own name followed the name chosen: this app's own folder.
    assert app_data_folder(app_name) in inst.compose and "/hello/" not in inst.compose


def test_a_member_with_the_right_installs_a_compose_file_and_docker_run_commands(
    installer_user, docker_engine, app_name, django_capture_on_commit_callbacks
):
    client = logged_in(installer_user)
    assert client.get(reverse("app-install")).status_code == 200
    with django_capture_on_commit_callbacks():
        compose = client.post(reverse("api-apps"), {"compose": WEB, "name": app_name}, "application/json")
        run = client.post(reverse("app-install"), {"docker_run": f"docker run -d {HTTPD}", "name": f"{app_name}-run"})
    assert compose.status_code == 202, compose.content
    assert run.status_code == 302, run.content
    for name in (app_name, f"{app_name}-run"):
        assert AppGrant.objects.filter(installation__name=name, user=installer_user).exists()


def test_host_access_still_needs_an_admin_for_a_member_with_the_right(
    installer_user, odd, docker_engine, app_name, django_capture_on_commit_callbacks
):
    client = logged_in(installer_user)
    risky = odd["risky"]
    with django_capture_on_commit_callbacks():
        response = client.post(
            reverse("api-catalog-install", args=[risky.pk]), {"name": app_name, "consent": True}, "application/json"
        )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    sock = f"{WEB}    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n"
    with pytest.raises(InstallError) as refused:
        app_install(user=installer_user, compose=sock, name=app_name, consent=True)
    assert refused.value.code == "forbidden"
    assert not Installation.objects.exists()


def test_adopting_a_foreign_container_stays_with_admins(installer_user):
    client = logged_in(installer_user)
    assert client.get(reverse("apps-containers")).status_code == 403
    assert client.post(reverse("api-apps-container-action", args=["abc", "adopt"])).status_code == 403
