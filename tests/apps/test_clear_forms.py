"""Clear forms (issue 14, item 9): ports read "host port → container port", a YAML error says where it is (line,
column, the line itself) on every page and API that takes a compose document, and one page installs from one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.forms import SettingsForm
from apps.models import AppEvent, Installation
from apps.services.settings_edit import service_settings
from tests.apps.conftest import BUSYBOX, HTTPD

pytestmark = pytest.mark.docker
S = Installation.Status

GOOD = f"services:\n  web:\n    image: {BUSYBOX}\n    ports: ['127.0.0.1:18080:80']\n"
# A second colon in a plain value: line 3, column 19 (what a person typing "image: name: tag" gets).
BAD = "services:\n  web:\n    image: busybox: latest\n"
WHERE = "line 3, column 19"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def settings_data(compose: str) -> dict:
    """What the settings form posts when the person changed nothing."""
    shown = SettingsForm(services=service_settings(compose), compose=compose)
    return {name: shown[name].initial or "" for name in shown.fields if name not in ("consent", "override_limits")}


# ---------------------------------------------------------------------------- ports
def test_ports_read_host_port_then_container_port_on_the_settings_and_app_pages(docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=GOOD, status=S.RUNNING)
    client = logged_in(admin_user)
    settings_page = client.get(reverse("app-settings", args=[inst.pk])).content.decode()
    assert "Ports (host port → container port)" in settings_page and "host port:container port" in settings_page
    app_page = client.get(reverse("app-manage", args=[inst.pk])).content.decode()
    assert "<code>127.0.0.1:18080 → 80/tcp</code>" in app_page


def test_the_install_page_says_how_docker_run_reads_ports(admin_user):
    page = logged_in(admin_user).get(reverse("app-install")).content.decode()
    assert "-p reads host port:container port" in page


# ---------------------------------------------------------------------------- YAML errors
def test_the_install_page_shows_where_the_yaml_is_wrong(docker_engine, admin_user, app_name):
    response = logged_in(admin_user).post(reverse("app-install"), {"compose": BAD, "name": app_name})
    page = response.content.decode()
    assert response.status_code == 200 and WHERE in page
    assert "    image: busybox: latest\n" + " " * 18 + "^" in page  # the line, and a caret under the column
    assert not Installation.objects.exists()


def test_an_uploaded_file_with_a_yaml_error_says_where_too(docker_engine, admin_user, app_name):
    upload = SimpleUploadedFile("compose.yaml", b"services:\n\tweb: {}\n")
    page = logged_in(admin_user).post(reverse("app-install"), {"upload": upload, "name": app_name}).content.decode()
    assert "line 2, column 1" in page and "\\tweb: {}" in page
    assert not Installation.objects.exists()


@pytest.mark.parametrize("path", ["/api/apps/", "/api/apps/custom/"])
def test_the_api_answers_a_yaml_error_with_400_and_where(path, docker_engine, admin_user, app_name):
    answer = logged_in(admin_user).post(path, {"compose": BAD, "name": app_name}, "application/json")
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "compose" and WHERE in body["detail"] and "busybox: latest" in body["detail"]
    assert (body["line"], body["column"], body["source_line"]) == (3, 19, "    image: busybox: latest")
    assert not Installation.objects.exists()


def test_the_settings_page_shows_a_yaml_error_in_the_raw_document(docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=GOOD, status=S.RUNNING)
    response = logged_in(admin_user).post(
        reverse("app-settings", args=[inst.pk]), {**settings_data(GOOD), "raw": BAD}
    )  # was a 500: the comparison with the stored document parsed it unguarded
    page = response.content.decode()
    assert response.status_code == 200 and WHERE in page and "    image: busybox: latest" in page
    assert not AppEvent.objects.filter(installation=inst).exists()


def test_the_settings_api_answers_a_yaml_error_with_400_and_where(docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=GOOD, status=S.RUNNING)
    answer = logged_in(admin_user).post(f"/api/apps/{inst.pk}/settings/", {"compose": BAD}, "application/json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["line"] == 3 and WHERE in answer.json()["detail"]
    assert not AppEvent.objects.filter(installation=inst).exists()


# ---------------------------------------------------------------------------- one install page
def test_the_custom_app_address_leads_to_the_one_install_page(admin_user):
    client = logged_in(admin_user)
    for method in (client.get, client.post):
        moved = method(reverse("apps-custom") + "?from=old")
        assert moved.status_code == 308 and moved["Location"] == reverse("app-install") + "?from=old"
    page = client.get(reverse("app-install")).content.decode()
    for field in ("compose", "upload", "docker_run", "name", "inputs"):
        assert f'name="{field}"' in page, field
    assert 'enctype="multipart/form-data"' in page
    assert reverse("apps-custom") not in client.get(reverse("apps")).content.decode()  # the apps page links the one


def test_the_one_install_page_installs_docker_run_commands_with_variables(docker_engine, admin_user, app_name):
    data = {"docker_run": f"docker run -d -e GREETING=$GREETING {HTTPD}", "name": app_name, "inputs": "GREETING=hi"}
    response = logged_in(admin_user).post(reverse("app-install"), data)
    inst = Installation.objects.get(name=app_name)
    assert response.status_code == 302 and response["Location"] == reverse("app-detail", args=[inst.pk])
    assert inst.inputs == {"GREETING": "hi"}


def test_the_one_install_page_wants_exactly_one_source(admin_user):
    both = {"compose": GOOD, "docker_run": f"docker run {BUSYBOX}"}
    for data in ({"compose": "", "docker_run": ""}, both):  # what a browser posts with every box empty
        page = logged_in(admin_user).post(reverse("app-install"), data).content.decode()
        assert "Give exactly one of" in page
    assert not Installation.objects.exists()
