"""Settings edits, updates with rollback, and uninstall with and without data (real Docker, loopback registry)."""

import contextlib
import html
import re
import time
import urllib.request
import uuid

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import AppEvent, AppUpdateState, Installation
from apps.services.common import InstallError
from apps.services.control import app_operation_run
from apps.services.settings_edit import ServiceEdit, app_settings_change, service_settings
from apps.services.uninstall import app_remove
from apps.services.update import app_hold, app_update_check, app_update_start, compose_carry_over
from casaos_site.i18n import shown
from runtime import labels as L
from runtime.compose import load_yaml
from tests.apps.conftest import NOTHING, leftovers
from tests.apps.conftest import install_running as install
from tests.conftest import REGISTRY

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
Outcome = AppEvent.Outcome


def _registry(method: str, path: str, body: bytes | None = None, media: str = "") -> tuple[bytes, str]:
    accept = (
        "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json"
    )
    req = urllib.request.Request(
        f"http://{REGISTRY}/v2/{path}",
        data=body,
        method=method,
        headers={"Accept": accept, **({"Content-Type": media} if media else {})},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read(), resp.headers.get("Content-Type", "")


def retag(source: str, tag: str) -> None:
    """Point casa/httpd:<tag> at what casa/httpd:<source> is, in the registry only (like a publisher pushing)."""
    manifest, media = _registry("GET", f"casa/httpd/manifests/{source}")
    _registry("PUT", f"casa/httpd/manifests/{tag}", manifest, media)


@contextlib.contextmanager
def moving_tag_on(eng):
    """A fresh tag of the test image in the registry, starting at v1; the engine's copy is removed afterwards."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    retag("1", tag)
    yield f"{REGISTRY}/casa/httpd:{tag}"
    with contextlib.suppress(Exception):
        eng.remove_image(f"{REGISTRY}/casa/httpd:{tag}", force=True)


@pytest.fixture
def moving_tag(docker_engine):
    with moving_tag_on(docker_engine) as image:
        yield image


def web(image: str, *, healthcheck: str = "") -> str:
    return f"""
services:
  web:
    image: {image}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment:
      GREETING: hi
    stop_grace_period: 1s  # busybox httpd as pid 1 ignores SIGTERM: a change stops the old container gracefully
    volumes:
      - data:/data{healthcheck}
volumes:
  data: {{}}
"""


ONLY_V1 = """
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/ | grep -q v1"]
      interval: 1s
      timeout: 2s
      retries: 2"""


def run(event: AppEvent, inst: Installation) -> AppEvent:
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    inst.refresh_from_db()
    return event


def get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return resp.read().decode().strip()


def exec_out(eng, name: str, *cmd: str) -> str:
    (container,) = [c for c in eng.list({L.APP: name}) if c.running]
    return exec_read(eng, container.id, cmd)


def exec_read(eng, ref: str, cmd) -> str:
    """A command's output, asked up to three times while it is empty: Podman 4.3 sometimes loses the whole output of a
    short exec under load (containers/podman#9096). A missing file stays missing however often it is read."""
    for _ in range(3):
        if out := eng.exec(ref, list(cmd), tty=False).read_all().decode():
            return out
    return out


def stepped_up_request(user):
    request = RequestFactory().post("/")
    request.user = user
    request.session = SessionStore()
    request.session[STEPUP_SESSION_KEY] = time.time()
    return request


# ---------------------------------------------------------------------------- settings
def test_it_applies_an_env_edit_and_keeps_the_data(docker_engine, admin_user, app_name, registry):
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1"), app_name)
    exec_out(docker_engine, app_name, "sh", "-c", "echo kept > /data/file")

    event = app_settings_change(
        user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"GREETING": "changed", "EXTRA": "1"})}
    )
    event = run(event, inst)

    assert event.outcome == Outcome.DONE, event.message
    assert inst.status == S.RUNNING
    env = exec_out(docker_engine, app_name, "env")
    assert "GREETING=changed" in env and "EXTRA=1" in env
    assert exec_out(docker_engine, app_name, "cat", "/data/file").strip() == "kept"
    assert service_settings(inst.compose)["web"]["env"] == {"GREETING": "changed", "EXTRA": "1"}


def test_it_rolls_back_a_settings_change_that_breaks_the_app(docker_engine, admin_user, app_name, registry, settings):
    settings.APPS_WEB_TIMEOUT = 4
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1"), app_name)
    old_compose, port = inst.compose, inst.web_port

    # The web port now leads to a container port nothing listens on: it never answers.
    edit = ServiceEdit(ports=[f"127.0.0.1:{port}:9999"])
    event = run(app_settings_change(user=admin_user, installation=inst, edits={"web": edit}), inst)

    assert event.outcome == Outcome.ROLLED_BACK, event.message
    assert "restored" in shown(event.message)
    assert inst.compose == old_compose and inst.status == S.RUNNING
    assert get(port) == "hello v1"
    assert inst.error  # the page shows why


def test_it_refuses_a_port_taken_by_another_app_before_changing_anything(docker_engine, admin_user, app_name, registry):
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1"), app_name)
    Installation.objects.create(name=f"{app_name}x", compose="services: {}", ports=["tcp/1"], status=S.STOPPED)
    before = [c.id for c in docker_engine.list({L.APP: app_name})]

    with pytest.raises(InstallError, match="already used by the app"):
        app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(ports=["1:8080"])})
    assert not AppEvent.objects.filter(installation=inst).exclude(operation="install").exists()
    assert [c.id for c in docker_engine.list({L.APP: app_name})] == before


def test_the_first_apply_of_fields_works_on_an_app_pasted_with_crlf_line_ends(docker_engine, admin_user, app_name):
    # A browser's textarea sends CRLF: the settings form's compose document then looked "changed" and won over
    # the fields, so the first Apply re-applied the same document and said "Done" (issue 11, item 7).
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1").replace("\n", "\r\n"), app_name)
    assert "\r" not in inst.compose
    crlf = inst.compose.replace("\n", "\r\n")  # as apps installed before this fix have it stored
    Installation.objects.filter(pk=inst.pk).update(compose=crlf)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/apps/{inst.pk}/settings/").content.decode()
    raw = html.unescape(re.search(r'<textarea name="raw"[^>]*>\n(.*?)</textarea>', page, re.S).group(1))
    form = {
        "raw": raw.replace("\r\n", "\n").replace("\n", "\r\n"),  # what a browser sends back untouched
        "web__env": "GREETING=hi\r\nEXTRA=1",
        "web__ports": f"127.0.0.1:{inst.web_port}:8080",
        "web__volumes": "data:/data",
        "web__restart": "unless-stopped",
    }

    assert client.post(f"/apps/{inst.pk}/settings/", form).status_code == 302
    event = run(AppEvent.objects.get(installation=inst, operation="settings"), inst)

    assert event.outcome == Outcome.DONE, event.message
    (container,) = docker_engine.list({L.APP: app_name})
    config = docker_engine.container_config(container.id)
    assert config["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert "EXTRA=1" in config["Config"]["Env"]


def test_it_says_what_it_cannot_apply_instead_of_claiming_success(docker_engine, admin_user, app_name):
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1"), app_name)
    with pytest.raises(InstallError, match="not both"):  # one of them would be dropped without a word
        app_settings_change(
            user=admin_user,
            installation=inst,
            edits={"web": ServiceEdit(restart="always")},
            compose=inst.compose.replace("hi", "ho"),
        )
    with pytest.raises(InstallError, match="Nothing changed"):  # the same document, other line ends and spacing
        app_settings_change(user=admin_user, installation=inst, compose=inst.compose.replace("\n", "  \r\n"))
    client = Client()
    client.force_login(admin_user)
    form = {"raw": inst.compose.replace("hi", "ho"), "web__env": "GREETING=hi", "web__restart": "always"}
    form |= {"web__ports": f"127.0.0.1:{inst.web_port}:8080", "web__volumes": "data:/data"}
    page = client.post(f"/apps/{inst.pk}/settings/", form).content.decode()
    assert "not both" in page and "<details open>" in page  # the edited document stays in sight
    body = {"services": {"web": {"restart": "always"}}, "compose": inst.compose.replace("hi", "ho")}
    response = client.post(f"/api/apps/{inst.pk}/settings/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "both"
    assert not AppEvent.objects.filter(installation=inst).exclude(operation="install").exists()


# ---------------------------------------------------------------------------- updates
def test_it_updates_a_moved_tag_and_keeps_env_and_data(docker_engine, admin_user, app_name, moving_tag):
    inst = install(admin_user, web(moving_tag), app_name)
    run(
        app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"GREETING": "mine"})}),
        inst,
    )
    exec_out(docker_engine, app_name, "sh", "-c", "echo kept > /data/file")
    assert not app_update_check(installation=inst, force=True).available

    retag("2", moving_tag.rsplit(":", 1)[1])
    state = app_update_check(installation=inst, force=True)
    assert state.available and "newer image" in shown(state.reason)

    event = run(app_update_start(user=admin_user, installation=inst), inst)

    assert event.outcome == Outcome.DONE, event.message
    assert get(inst.web_port) == "hello v2"
    assert "GREETING=mine" in exec_out(docker_engine, app_name, "env")
    assert exec_out(docker_engine, app_name, "cat", "/data/file").strip() == "kept"
    assert not AppUpdateState.objects.get(installation=inst).available


def test_it_rolls_back_an_update_that_never_becomes_healthy(docker_engine, admin_user, app_name, moving_tag):
    inst = install(admin_user, web(moving_tag, healthcheck=ONLY_V1), app_name)
    retag("2", moving_tag.rsplit(":", 1)[1])

    event = run(app_update_start(user=admin_user, installation=inst), inst)

    assert event.outcome == Outcome.ROLLED_BACK, event.message
    assert inst.status == S.RUNNING
    assert get(inst.web_port) == "hello v1"  # the old image, by id, although the tag now means v2
    (container,) = docker_engine.list({L.APP: app_name})
    assert container.health == "healthy" or docker_engine.inspect(container.id).health in ("healthy", "starting")


def test_it_holds_a_version(docker_engine, admin_user, app_name, registry):
    inst = install(admin_user, web(f"{REGISTRY}/casa/httpd:1"), app_name)
    app_hold(user=admin_user, installation=inst, held=True)

    with pytest.raises(InstallError, match="held"):
        app_update_start(user=admin_user, installation=inst)
    assert not AppEvent.objects.filter(installation=inst).exclude(operation="install").exists()


def test_it_carries_installed_values_into_a_new_store_template():
    old = load_yaml("""
services:
  web:
    image: app:1
    environment: {PASSWORD: secret$$1, TZ: Europe/Paris}
    ports: ["8181:80", "9000:9000/udp"]
    volumes: ["/srv/AppData/app/config:/config", "/media/films:/films"]
""")
    new = load_yaml("""
services:
  web:
    image: app:2
    environment: [PASSWORD=changeme, TZ=UTC, NEW=1]
    ports: ["80:80", "9000:9000/udp", "443:443"]
    volumes: ["/DATA/AppData/app/config:/config", "/DATA/AppData/app/cache:/cache"]
""")
    merged = load_yaml(compose_carry_over(old, new))["services"]["web"]

    assert merged["image"] == "app:2"
    assert merged["environment"] == {"PASSWORD": "secret$$1", "TZ": "Europe/Paris", "NEW": "1"}
    assert merged["ports"] == ["8181:80", "9000:9000/udp", "443:443"]
    assert merged["volumes"] == [
        "/srv/AppData/app/config:/config",
        "/DATA/AppData/app/cache:/cache",
        "/media/films:/films",
    ]


# ---------------------------------------------------------------------------- uninstall
def _data_app(image: str, data_root, media) -> str:
    return f"""
services:
  web:
    image: {image}
    volumes:
      - data:/data
      - {data_root}/${{AppID}}/config:/config
      - {media}:/media
volumes:
  data: {{}}
"""


def test_it_uninstalls_keeping_data_by_default(docker_engine, admin_user, app_name, registry, settings, tmp_path):
    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    settings.FILES_ROOT = tmp_path  # the media folder is the admin's to give
    media = tmp_path / "Media"
    media.mkdir()
    (media / "film.mkv").write_text("x")
    inst = install(admin_user, _data_app(f"{REGISTRY}/casa/httpd:1", settings.APPS_DATA_ROOT, media), app_name)

    event = app_remove(user=admin_user, installation=inst)
    app_operation_run(event_id=event.pk)

    assert not Installation.objects.filter(pk=inst.pk).exists()
    assert leftovers(docker_engine, app_name) == {**NOTHING, "volumes": [f"{app_name}_data"]}
    assert (settings.APPS_DATA_ROOT / app_name / "config").is_dir()
    assert (media / "film.mkv").exists()


def test_it_deletes_only_the_apps_own_data_with_step_up(
    docker_engine, admin_user, app_name, registry, settings, tmp_path
):
    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    settings.FILES_ROOT = tmp_path  # the media folder is the admin's to give
    media = tmp_path / "Media"
    media.mkdir()
    (media / "film.mkv").write_text("x")
    neighbour = settings.APPS_DATA_ROOT / "neighbour"
    neighbour.mkdir(parents=True)
    inst = install(admin_user, _data_app(f"{REGISTRY}/casa/httpd:1", settings.APPS_DATA_ROOT, media), app_name)

    with pytest.raises(InstallError, match="step-up"):
        app_remove(user=admin_user, installation=inst, delete_data=True)  # no fresh step-up: refused, nothing queued
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING
    assert not AppEvent.objects.exclude(operation="install").exists()

    event = app_remove(user=admin_user, installation=inst, delete_data=True, request=stepped_up_request(admin_user))
    app_operation_run(event_id=event.pk)

    assert not Installation.objects.filter(pk=inst.pk).exists()
    assert leftovers(docker_engine, app_name) == NOTHING
    assert not (settings.APPS_DATA_ROOT / app_name).exists()
    assert neighbour.is_dir() and (media / "film.mkv").exists()


def _store_template(image: str, port: int, name: str, extra_env: str = "") -> str:
    """Like most store apps, with a fixed container name."""
    return f"""
services:
  web:
    image: {image}
    container_name: {name}
    stop_grace_period: 1s
    ports: ["127.0.0.1:{port}:8080"]
    environment:
      GREETING: hello{extra_env}
    volumes:
      - /DATA/AppData/$AppID/config:/config
x-casaos: {{main: web, port_map: "{port}", title: {{en_us: Store web}}}}
"""


def test_it_updates_a_store_app_to_its_new_template_keeping_edits(
    docker_engine, admin_user, app_name, registry, settings, tmp_path
):
    from appstore.install import install_fields, render_compose
    from appstore.models import CatalogApp, Store
    from tests.conftest import free_port

    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    port = free_port()
    store = Store.objects.create(name="local", kind=Store.Kind.FOLDER, path=str(tmp_path))
    app = CatalogApp.objects.create(
        store=store,
        store_app_id=app_name,
        title={"en_us": "Store web"},
        title_sort="store web",
        compose=_store_template(f"{REGISTRY}/casa/httpd:1", port, f"{app_name}-store"),
        content_hash="v1",
    )
    compose = render_compose(app, {f.key: f.initial for f in install_fields(app, name=app_name)})
    inst = install(admin_user, compose, app_name, source="store", store_app=app)
    run(
        app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"GREETING": "mine"})}),
        inst,
    )
    state = app_update_check(installation=inst, force=True)
    assert not state.available, (shown(state.reason), state.local_digests, state.remote_digests)

    new = _store_template(f"{REGISTRY}/casa/httpd:2", port, f"{app_name}-store", "\n      NEW: '1'")
    app.compose, app.content_hash = new, "v2"
    app.save()
    state = app_update_check(installation=inst, force=True)
    assert state.available and "app store" in shown(state.reason)

    event = run(app_update_start(user=admin_user, installation=inst), inst)

    assert event.outcome == Outcome.DONE, event.message
    assert get(port) == "hello v2"
    assert [c.name for c in docker_engine.list({L.APP: app_name})] == [f"{app_name}-store"]
    env = exec_out(docker_engine, app_name, "env")
    assert "GREETING=mine" in env and "NEW=1" in env
    assert f"{settings.APPS_DATA_ROOT}/{app_name}/config:/config" in inst.compose  # the data path stays
    from appstore.models import InstalledTemplate

    installed = InstalledTemplate.objects.get(installation=inst)  # the store's mark clears: v2 is installed now
    assert installed.content_hash == "v2" and not installed.update_available


def test_it_undoes_an_update_whose_worker_died_half_way(docker_engine, admin_user, app_name, moving_tag):
    from datetime import timedelta

    from django.utils import timezone

    from apps.models import AppLock
    from apps.services.control import AppApply
    from apps.services.reconfigure import snapshot_take
    from apps.services.recovery import operation_reconcile
    from runtime.compose import load_project

    inst = install(admin_user, web(moving_tag), app_name)
    retag("2", moving_tag.rsplit(":", 1)[1])
    event = app_update_start(user=admin_user, installation=inst)
    # What the worker got done before it died: snapshot, new image pulled; and the old container is gone (not even
    # set aside): it comes back from the previous compose on the exact old image, although the tag now means v2.
    snapshot_take(inst=inst, eng=docker_engine, event_id=event.pk)
    project = load_project(inst.compose, variables=inst.variables, project_name=inst.name)
    AppApply(inst, docker_engine, project, refresh=True).pull()
    (old,) = docker_engine.list({L.APP: app_name})
    docker_engine.remove(old.id, force=True)
    AppLock.objects.filter(installation=inst).update(heartbeat_at=timezone.now() - timedelta(minutes=2))

    assert operation_reconcile(stale_seconds=60) == [app_name]

    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.ROLLED_BACK and "interrupted" in shown(event.message)
    assert inst.status == S.RUNNING and get(inst.web_port) == "hello v1"
    assert not AppLock.objects.exists()
