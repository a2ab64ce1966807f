"""A store app with ${VAR:?message}: it imports, and its install form (page and API) asks for the value."""

import pytest
from django.urls import reverse

from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import Installation
from apps.services import app_install_run
from appstore.models import CatalogApp
from runtime import labels as L
from tests.appstore.conftest import make_store, sync
from tests.conftest import free_port

pytestmark = pytest.mark.django_db
HTTPD = "127.0.0.1:5000/casa/httpd:1"
SECRET = f"""
name: secret
services:
  web:
    image: {HTTPD}
    ports: ["18090:8080"]
    environment:
      ADMIN_PASSWORD: ${{ADMIN_PASSWORD:?Choose the password of the admin account}}
      GREETING: hi
    x-casaos:
      envs:
        - container: ADMIN_PASSWORD
          description: {{en_us: Admin password}}
x-casaos:
  title: {{en_us: Secret}}
  main: web
"""


@pytest.fixture
def secret(tmp_path, allow_lan):
    (tmp_path / "store" / "Apps" / "Secret").mkdir(parents=True)
    (tmp_path / "store" / "Apps" / "Secret" / "docker-compose.yml").write_text(SECRET)
    store = sync(make_store(path=str(tmp_path / "store")))
    assert store.status == "ok", store.error
    assert store.problems == []  # imported, not refused
    return CatalogApp.objects.get(store=store, store_app_id="secret")


def login(client, user):
    client.force_login(user)
    session = client.session
    session[STEPUP_SESSION_KEY] = 9e12
    session.save()
    return client


def test_the_form_asks_for_the_required_value_with_the_templates_message(client, admin_user, secret):
    page = login(client, admin_user).get(reverse("appstore-install", args=[secret.pk])).content.decode()
    assert 'name="var__ADMIN_PASSWORD"' in page and "required" in page.split('name="var__ADMIN_PASSWORD"')[1][:200]
    assert "Admin password" in page and "Choose the password of the admin account" in page
    assert 'name="env__web__ADMIN_PASSWORD"' not in page  # set through the variable, never as a literal
    assert 'name="env__web__GREETING"' in page


def test_it_refuses_the_form_without_the_value_and_creates_nothing(client, admin_user, secret):
    data = {"name": "secret", "port__web__0": str(free_port()), "env__web__GREETING": "hi"}
    response = login(client, admin_user).post(reverse("appstore-install", args=[secret.pk]), data)
    page = response.content.decode()
    assert response.status_code == 200 and "Choose the password of the admin account" in page
    assert "The app cannot start without this value." in page and not Installation.objects.exists()
    assert "settings we could not check" not in page  # a value not typed yet is no reason to distrust the app


@pytest.mark.docker
def test_the_value_reaches_the_app(client, admin_user, secret, docker_engine, app_name):
    data = {
        "name": app_name,
        "port__web__0": str(free_port()),
        "env__web__GREETING": "hi",
        "var__ADMIN_PASSWORD": "s3cret $HOME",
    }
    response = login(client, admin_user).post(reverse("appstore-install", args=[secret.pk]), data)
    inst = Installation.objects.get(name=app_name)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert inst.inputs == {"ADMIN_PASSWORD": "s3cret $HOME"}
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == "running", inst.error
    (web,) = docker_engine.list({L.APP: app_name})
    env = docker_engine.exec(web.id, ["env"], tty=False).read_all().decode()
    assert "ADMIN_PASSWORD=s3cret $HOME" in env  # literal: a typed value is never interpolated again


def test_the_api_lists_the_required_value_and_refuses_an_install_without_it(client, admin_user, secret):
    login(client, admin_user)
    fields = {f["key"]: f for f in client.get(reverse("api-catalog-detail", args=[secret.pk])).json()["install_fields"]}
    assert fields["var__ADMIN_PASSWORD"] == {
        "key": "var__ADMIN_PASSWORD",
        "kind": "variable",
        "service": "",
        "label": "Admin password",
        "initial": "",
        "container": "ADMIN_PASSWORD",
        "protocol": "tcp",
        "required": True,
        "help": "Choose the password of the admin account",
    }
    response = client.post(
        reverse("api-catalog-install", args=[secret.pk]),
        {"name": "secret", "values": {"port__web__0": str(free_port())}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The app cannot start without this value."
    assert "var__ADMIN_PASSWORD" in response.json()["errors"]
    assert not Installation.objects.exists()


def test_a_typed_value_that_grants_host_access_needs_consent(client, admin_user, tmp_path, allow_lan):
    (tmp_path / "store" / "Apps" / "Folder").mkdir(parents=True)
    (tmp_path / "store" / "Apps" / "Folder" / "docker-compose.yml").write_text(
        f"name: folder\nservices:\n  web:\n    image: {HTTPD}\n    volumes: ['${{MEDIA:?Where your media is}}:/media']\n"
    )
    store = sync(make_store(path=str(tmp_path / "store")))
    folder = CatalogApp.objects.get(store=store, store_app_id="folder")
    # ":/media" cannot be read before the value exists: the report fails closed until the form has it.
    assert folder.needs_consent and folder.risk["flags"][0]["code"] == "analysis_failed"
    assert "MEDIA" in folder.risk["flags"][0]["detail"]
    client.force_login(admin_user)
    page = client.post(reverse("appstore-install", args=[folder.pk]), {"name": "folder", "var__MEDIA": "/"})
    assert "your whole disk" in page.content.decode() and not Installation.objects.exists()


def test_a_default_with_a_colon_in_a_short_volume_stays_one_field(client, admin_user, tmp_path, allow_lan):
    (tmp_path / "store" / "Apps" / "Media").mkdir(parents=True)
    (tmp_path / "store" / "Apps" / "Media" / "docker-compose.yml").write_text(
        f"name: media\nservices:\n  web:\n    image: {HTTPD}\n    volumes: ['${{MEDIA:-/srv/media}}:/media:ro']\n"
    )
    media = CatalogApp.objects.get(store=sync(make_store(path=str(tmp_path / "store"))), store_app_id="media")
    page = login(client, admin_user).get(reverse("appstore-install", args=[media.pk])).content.decode()
    assert 'name="vol__web__0"' in page and 'value="/srv/media"' in page and "/media" in page
    from appstore.install import render_compose

    assert "- /data/films:/media:ro" in render_compose(media, {"vol__web__0": "/data/films"})
