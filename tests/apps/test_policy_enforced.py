"""The container policy in the task (defence in depth) and the consent record, on Docker and Podman.

A payload that reached the queue without passing the request's check (a forged row or event, a bug) fails the
operation before the engine creates anything; what an app may do runs on both engines; each configuration carries
the consent it was approved with, and a change that adds host access needs a new one.
"""

from pathlib import Path

import pytest

from apps.models import AppEvent, Installation
from apps.services import app_install, app_install_run
from apps.services.common import ConsentRequired
from apps.services.control import app_operation_run, operation_queue
from apps.services.policy import app_data_folder
from apps.services.settings_edit import ServiceEdit, app_settings_change
from casaos_site.i18n import shown
from runtime import labels as L
from tests.apps.conftest import BUSYBOX, HTTPD, NOTHING, install_running, leftovers

pytestmark = pytest.mark.django_db(transaction=True)
S = Installation.Status
Outcome = AppEvent.Outcome


def web(extra: str = "") -> str:
    return f"services:\n  web:\n    image: {HTTPD}\n    stop_grace_period: 1s\n{extra}"


def record(user, *items: str) -> dict:
    return {"items": list(items), "by": user.username, "by_id": user.pk, "at": "2026-01-01T00:00:00", "operation": "x"}


def forged(name: str, compose: str, consents: list[dict]) -> Installation:
    """An install row that never passed the request's check, queued as the worker would find it."""
    return Installation.objects.create(name=name, compose=compose, consents=consents, status=S.PENDING)


@pytest.mark.parametrize(
    "extra",
    [
        "    volumes: ['/var:/h']\n",
        "    cap_add: [SYS_ADMIN]\n",
        "    pid: host\n",
        "    volumes: ['d:/d']\nvolumes:\n  d:\n    driver_opts: {type: nfs, o: 'addr=10.9.9.9', device: ':/x'}\n",
    ],
    ids=["var-bind", "cap", "host-pid", "nfs-volume"],
)
def test_the_task_refuses_what_the_request_never_approved(app_engine, admin_user, app_name, extra):
    inst = forged(app_name, web(extra), [record(admin_user)])
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == S.FAILED and "Refused by the container policy" in shown(inst.error)
    assert leftovers(app_engine, app_name) == NOTHING  # no container, network or volume, not even half made


def test_the_task_refuses_another_apps_volume_even_with_a_record(app_engine, admin_user, app_name):
    from runtime.specs import VolumeSpec

    theirs = f"{app_name}x_data"
    app_engine.create_volume(VolumeSpec(name=theirs, labels=L.volume_labels(f"{app_name}x", "data")))
    try:
        compose = web(f"    volumes: ['v:/v']\nvolumes:\n  v: {{external: true, name: {theirs}}}\n")
        inst = forged(app_name, compose, [record(admin_user, f"foreign_volume:{theirs}", "*")])
        app_install_run(installation_id=inst.pk)
        inst.refresh_from_db()
        assert inst.status == S.FAILED and f"the app {app_name}x" in shown(inst.error)
        assert leftovers(app_engine, app_name) == NOTHING
    finally:
        app_engine.remove_volume(theirs, force=True)


def test_what_an_app_may_do_runs_on_both_engines(app_engine, admin_user, app_name):
    compose = f"""
services:
  web:
    image: {HTTPD}
    stop_grace_period: 1s
    volumes: ["{app_data_folder(app_name)}/site:/site"]
    cap_add: [CHOWN, NET_RAW]
    security_opt: ["no-new-privileges:true"]
  side:
    image: {BUSYBOX}
    stop_grace_period: 1s
    pid: "service:web"
    network_mode: "service:web"
"""
    inst = install_running(admin_user, compose, app_name)
    web_id = app_engine.inspect(f"{app_name}-web-1").id
    side = app_engine.container_config(f"{app_name}-side-1")["HostConfig"]
    assert {side["PidMode"], side["NetworkMode"]} <= {f"container:{web_id}", f"container:{app_name}-web-1"}
    mounts = app_engine.container_config(f"{app_name}-web-1")["Mounts"]
    assert any(m["Source"] == f"{app_data_folder(app_name)}/site" for m in mounts)
    assert inst.consents[-1]["items"] == []


def test_a_missing_folder_is_created_only_in_the_apps_own_folder(docker_engine, admin_user, app_name, tmp_path):
    elsewhere = tmp_path / "not-mine" / "deep"
    consented = record(admin_user, f"host_folder:{elsewhere}")
    inst = forged(
        app_name, web(f"    volumes: ['{elsewhere}:/h', '{app_data_folder(app_name)}/new:/n']\n"), [consented]
    )
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == S.FAILED and f"{elsewhere} does not exist" in shown(inst.error)
    assert not elsewhere.parent.exists()
    assert leftovers(docker_engine, app_name) == NOTHING


def test_a_change_adding_host_access_needs_new_consent_and_its_record_follows(
    docker_engine, admin_user, app_name, tmp_path, stepped_up
):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    inst = install_running(
        admin_user, web(f"    volumes: ['{first}:/first']\n"), app_name, consent=True, request=stepped_up
    )
    assert inst.consents[-1]["items"] == [f"host_folder:{first}"]

    # Keeping what it holds needs nothing new; adding a folder does.
    edit = {"web": ServiceEdit(volumes=[f"{first}:/first", f"{second}:/second"])}
    with pytest.raises(ConsentRequired) as refused:
        app_settings_change(user=admin_user, installation=inst, edits=edit)
    assert [f.value for f in refused.value.findings] == [str(second)]
    event = app_settings_change(user=admin_user, installation=inst, edits=edit, consent=True, request=stepped_up)
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.DONE, event.message
    latest = inst.consents[-1]
    assert (latest["operation"], latest["by"]) == ("settings", admin_user.username)
    assert latest["items"] == sorted([f"host_folder:{first}", f"host_folder:{second}"])

    # Dropping the folder and asking for it again later is new host access again.
    event = app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(volumes=[])})
    app_operation_run(event_id=event.pk)
    inst.refresh_from_db()
    assert inst.consents[-1]["items"] == []
    with pytest.raises(ConsentRequired):
        app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(volumes=[f"{first}:/f"])})


def test_a_change_whose_event_was_forged_is_refused_in_the_task_and_rolled_back(docker_engine, admin_user, app_name):
    inst = install_running(admin_user, web(), app_name)
    before = docker_engine.inspect(f"{app_name}-web-1").id
    forged_change = {"compose": web("    volumes: ['/var:/h']\n"), "consent": record(admin_user)}
    event = operation_queue(user=admin_user, installation=inst, operation="settings", details=forged_change)
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    assert event.outcome in (Outcome.FAILED, Outcome.ROLLED_BACK) and "container policy" in shown(event.message)
    after = docker_engine.container_config(f"{app_name}-web-1")
    assert after["Id"] == before and not any(m["Source"] == "/var" for m in after["Mounts"])


def test_an_app_from_before_consent_records_keeps_what_it_has(docker_engine, admin_user, app_name, stepped_up):
    from apps.services.control import app_control

    inst = app_install(
        user=admin_user, compose=web("    cap_add: [SYS_PTRACE]\n"), name=app_name, consent=True, request=stepped_up
    )
    Installation.objects.filter(pk=inst.pk).update(consents=[{"items": ["*"], "by": "", "by_id": None}])
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error
    event = app_control(user=admin_user, installation=inst, action="restart")
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    assert event.outcome == Outcome.DONE, event.message
    with pytest.raises(ConsentRequired) as refused:  # something new still needs a consent
        app_settings_change(user=admin_user, installation=inst, compose=web("    cap_add: [SYS_PTRACE, SYS_NICE]\n"))
    assert [f.value for f in refused.value.findings] == ["SYS_NICE"]


def test_folders_of_a_member_count_only_for_that_member(docker_engine, installer_user, admin_user, app_name):
    from django.conf import settings

    from files.paths import HOME, files_root, user_bases

    home = user_bases(installer_user)[HOME].real  # made on first use, as the file manager does
    compose = web(f"    volumes: ['{home}/site:/site']\n")
    inst = app_install(user=installer_user, compose=compose, name=app_name)  # their own files: no consent
    assert inst.consents[-1]["items"] == [] and inst.consents[-1]["by"] == installer_user.username
    other = web(f"    volumes: ['{files_root() / settings.FILES_HOME_DIR / admin_user.get_username()}/x:/x']\n")
    with pytest.raises(Exception, match="Only an administrator"):
        app_install(user=installer_user, compose=other, name=f"{app_name}b")
    assert Path(home).is_dir()
