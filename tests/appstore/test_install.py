"""Installing from a store for real (API → installer → running app), consent for flagged apps, and the
"update available" mark when the store's template changes."""

import shutil
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import Installation
from apps.services import app_install_run
from apps.services.policy import app_data_folder
from appstore.models import CatalogApp, InstalledTemplate
from appstore.selectors import update_available_for, updates_available
from tests.appstore.conftest import ODD_STORE, make_store, sync
from tests.conftest import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.docker]
HTTPD_1, HTTPD_2 = "127.0.0.1:5000/casa/httpd:1", "127.0.0.1:5000/casa/httpd:2"


@pytest.fixture
def hello_store(tmp_path, allow_lan):
    """A one-app store folder we can change between syncs (the Hello app of the odd store, httpd:1)."""
    root = tmp_path / "store"
    shutil.copytree(ODD_STORE / "Apps" / "Hello", root / "Apps" / "Hello")
    store = sync(make_store(path=str(root), name="Hello store"))
    assert store.status == "ok", store.error
    return store


def set_template(store, text_from: str, text_to: str):
    """Change the store's Hello template, then sync it."""
    compose = Path(store.path) / "Apps" / "Hello" / "docker-compose.yml"
    compose.write_text(compose.read_text(encoding="utf-8").replace(text_from, text_to), encoding="utf-8")
    return sync(store)


def stepped_up(client, user):
    client.force_login(user)
    session = client.session
    session[STEPUP_SESSION_KEY] = 9e12
    session.save()
    return client


def install(client, app, body, capture):
    with capture():  # the task is queued on commit; we run the pipeline ourselves, like the worker would
        return client.post(reverse("api-catalog-install", args=[app.pk]), body, content_type="application/json")


def detail(client, app) -> dict:
    return client.get(reverse("api-catalog-detail", args=[app.pk])).json()


def test_it_installs_from_the_api_runs_the_app_and_marks_updates(
    client, admin_user, hello_store, docker_engine, app_name, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    hello = CatalogApp.objects.get(store=hello_store, store_app_id="hello")
    fields = {f["key"]: f for f in detail(client, hello)["install_fields"]}
    assert (
        fields["port__web__0"]["initial"] == "18080" and fields["env__web__GREETING"]["label"] == "What the page says"
    )
    port = free_port()
    response = install(
        client,
        hello,
        {
            "name": app_name,
            "values": {
                "port__web__0": str(port),
                "vol__web__0": app_data_folder(app_name) + "/data",
                "env__web__GREETING": "hi",
            },
        },
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.content
    inst = Installation.objects.get(pk=response.json()["id"])
    assert (inst.name, inst.source, inst.store_ref) == (app_name, "store", str(hello.pk))

    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == "running", inst.error
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
        assert page.read().decode().strip() == "hello v1"
    body = detail(client, hello)
    assert (body["installed"], body["update_available"]) == (True, False)
    assert not update_available_for(inst)

    # The store moves the app to httpd:2: after the next sync the app is marked, everywhere it shows.
    set_template(hello_store, HTTPD_1, HTTPD_2)
    assert update_available_for(inst)
    assert [(r.installation_id, r.available_images) for r in updates_available()] == [(inst.pk, [HTTPD_2])]
    assert detail(client, hello)["update_available"] is True
    listed = client.get(reverse("api-catalog-list")).json()["results"]
    assert [(a["installed"], a["update_available"]) for a in listed] == [(True, True)]
    assert 'id="update-badge"' in client.get(reverse("appstore-app", args=[hello.pk])).content.decode()
    card = client.get(reverse("appstore")).content.decode()
    assert "Update available" in card

    # Once the app runs the store's images (the apps feature updated it), the next sync clears the mark.
    Installation.objects.filter(pk=inst.pk).update(compose=inst.compose.replace(HTTPD_1, HTTPD_2))
    sync(hello_store)
    assert not update_available_for(inst)
    assert InstalledTemplate.objects.get(installation=inst).images == [HTTPD_2]


def test_a_content_change_alone_marks_an_update(
    client, admin_user, hello_store, docker_engine, app_name, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    hello = CatalogApp.objects.get(store=hello_store)
    response = install(
        client,
        hello,
        {
            "name": app_name,
            "values": {"port__web__0": str(free_port()), "vol__web__0": app_data_folder(app_name) + "/d"},
        },
        django_capture_on_commit_callbacks,
    )
    inst = Installation.objects.get(pk=response.json()["id"])
    sync(hello_store)  # the same template again: no mark
    assert not update_available_for(inst)
    set_template(hello_store, 'version: "1.0.0"', 'version: "1.0.1"')
    assert update_available_for(inst)
    assert InstalledTemplate.objects.get(installation=inst).available_version == "1.0.1"


def test_it_refuses_bad_values_and_changes_nothing(
    client, admin_user, hello_store, docker_engine, app_name, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    hello = CatalogApp.objects.get(store=hello_store)
    for values, words in (
        ({"port__web__0": "99999"}, "less than or equal to 65535"),
        ({"env__web__NOPE": "x"}, "env__web__NOPE is not a value of this app"),
    ):
        response = install(client, hello, {"name": app_name, "values": values}, django_capture_on_commit_callbacks)
        assert response.status_code == 400 and words in str(response.json()), response.json()
    assert not Installation.objects.exists() and not InstalledTemplate.objects.exists()


@pytest.fixture
def risky(db, allow_lan):
    store = sync(make_store(path=str(ODD_STORE), name="Odd store"))
    return CatalogApp.objects.get(store=store, store_app_id="risky")


def test_flagged_apps_need_an_admin_consent_and_a_step_up(
    client, admin_user, installer_user, risky, docker_engine, app_name, django_capture_on_commit_callbacks
):
    body = {"name": app_name}
    client.force_login(installer_user)  # a member allowed to install, yet not to give an app host access
    response = install(client, risky, {**body, "consent": True}, django_capture_on_commit_callbacks)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"

    client.force_login(admin_user)
    response = install(client, risky, body, django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "full control of Docker" in response.json()["flags"]
    response = install(client, risky, {**body, "consent": True}, django_capture_on_commit_callbacks)
    # The engine's socket and the whole disk are given only when the consent names them.
    assert response.status_code == 400 and response.json()["code"] == "consent"
    assert {f["value"] for f in response.json()["findings"]} == {"/var/run/docker.sock", "/"}
    named = {**body, "consent": True, "consent_paths": ["/var/run/docker.sock", "/"]}
    response = install(client, risky, named, django_capture_on_commit_callbacks)
    assert response.status_code == 403 and response.json()["stepup"] is True
    assert not Installation.objects.exists() and not InstalledTemplate.objects.exists()

    stepped_up(client, admin_user)
    response = install(client, risky, named, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content  # accepted, not run: it would really get the host
    inst = Installation.objects.get(name=app_name)
    assert InstalledTemplate.objects.get(installation=inst).store_app_id == "risky"
    (record,) = inst.consents  # what was consented to, by whom, when
    assert record["by"] == admin_user.username and record["at"] and record["operation"] == "install"
    assert {"engine_socket:/var/run/docker.sock", "root_bind:/", "privileged:true"} <= set(record["items"])
