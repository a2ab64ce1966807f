"""The compose of an app's copy (backups.appcopy): its own folder, host ports of its own, and what a second install of
the app cannot have refused with the reason; a queued copy cancelled leaves nothing. The copy restored on the real
engine is in test_apps.py."""

import pytest
from django.utils import timezone

from apps.models import Installation
from apps.services import app_cancel
from backups.appcopy import CopyRefused, copy_plan
from backups.models import JobRun, Snapshot
from backups.services import restore_queue
from backups.services.restore import RestoreError
from runtime.compose import load_yaml
from tests.apps.conftest import HTTPD
from tests.conftest import free_port

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


@pytest.fixture
def app_root(settings, tmp_path):
    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    return settings.APPS_DATA_ROOT


def _original(app_root, compose: str, ports=(), name="orig") -> Installation:
    (app_root / name / "config").mkdir(parents=True)
    variables = {"AppID": name, "WEBUI_PORT": "18080", "PUID": "1000", "PGID": "1000", "TZ": "UTC"}
    return Installation.objects.create(
        name=name, compose=compose, variables=variables, ports=list(ports), status=Installation.Status.RUNNING
    )


def _web(app_root, *, extra: str = "", ports: str = "") -> str:
    return (
        f"services:\n  web:\n    image: {HTTPD}\n{extra}"
        f"    ports:\n{ports}      - '${{WEBUI_PORT}}:8081'\n"
        f"    volumes:\n      - {app_root}/orig/config:/config\n      - {app_root}/${{AppID}}/cache:/cache\n"
        "      - data:/data\nvolumes:\n  data: {}\n"
    )


def test_the_copy_gets_its_own_folder_and_host_ports_of_its_own(docker_engine, app_root):
    a, b = free_port(), free_port()
    ports = f"      - '127.0.0.1:{a}:80'\n      - target: 81\n        published: {b}\n"
    original = _original(app_root, _web(app_root, ports=ports), ports=[f"tcp/{a}", f"tcp/{b}"])

    plan = copy_plan(original=original, name="copy")

    web = load_yaml(plan.compose)["services"]["web"]
    assert web["volumes"] == [f"{app_root}/copy/config:/config", f"{app_root}/${{AppID}}/cache:/cache", "data:/data"]
    short, long, webui = web["ports"]
    assert webui == "${WEBUI_PORT}:8081"  # every install gets a free one
    moved_a, moved_b = int(plan.ports[f"tcp/{a}"].split("/")[1]), int(plan.ports[f"tcp/{b}"].split("/")[1])
    assert short == f"127.0.0.1:{moved_a}:80" and long == {"target": 81, "published": str(moved_b)}
    assert moved_a > a and moved_b > b and moved_a != moved_b  # the next free ones, as the store's form suggests
    assert "WEBUI_PORT" not in plan.inputs


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("    container_name: orig-web\n", "fixes the names of its containers (orig-web)"),
        ("    networks: [lan]\n", "fixes the names of its networks (orig-lan)"),
    ],
)
def test_names_the_compose_fixes_refuse_a_copy(docker_engine, app_root, extra, words):
    compose = _web(app_root, extra=extra)
    if "networks" in extra:
        compose += "networks:\n  lan:\n    name: orig-lan\n"
    with pytest.raises(CopyRefused, match=words.replace("(", r"\(").replace(")", r"\)")):
        copy_plan(original=_original(app_root, compose), name="copy")


def test_data_outside_the_apps_own_folder_refuses_a_copy(docker_engine, app_root, settings, tmp_path):
    shared = tmp_path / "files" / "Media"
    shared.mkdir(parents=True)
    settings.FILES_ROOT = tmp_path / "files"
    compose = _web(app_root).replace("      - data:/data\n", f"      - data:/data\n      - {shared}:/media\n")
    with pytest.raises(CopyRefused, match="outside its own folder"):
        copy_plan(original=_original(app_root, compose), name="copy")


def test_a_folder_left_by_an_app_of_that_name_refuses_a_copy(docker_engine, app_root):
    (app_root / "copy").mkdir(parents=True)
    with pytest.raises(CopyRefused, match="still there"):
        copy_plan(original=_original(app_root, _web(app_root)), name="copy")


@pytest.mark.django_db(transaction=True)
def test_a_queued_copy_cancelled_leaves_nothing(docker_engine, app_root, admin_user, repository):
    _original(app_root, _web(app_root))
    snap = Snapshot.objects.create(
        repository=repository, restic_id="ab" * 32, short_id="abababab", time=timezone.now(), kind="app", subject="orig"
    )
    run = restore_queue(user=admin_user, snapshot=snap, as_name="copy")
    app_cancel(user=admin_user, installation=Installation.objects.get(name="copy"))

    run.refresh_from_db()
    assert run.status == "failed" and "cancelled" in run.error
    assert list(Installation.objects.values_list("name", flat=True)) == ["orig"]
    Snapshot.objects.filter(pk=snap.pk).update(kind="folder")
    with pytest.raises(RestoreError, match="only the snapshot of an app"):
        restore_queue(user=admin_user, snapshot=Snapshot.objects.get(pk=snap.pk), as_name="copy2")
    assert JobRun.objects.count() == 1
