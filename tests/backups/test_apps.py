"""Apps with their data on the real engine: backed up stopped (or running, after their hook), restored after a
wipe, and the disaster drill: the whole box back from a backup, the app running with its data, the admin's password
and MFA working."""

import shutil

import pytest

from apps.models import Installation
from backups.models import BackupJob, JobRun, Snapshot
from backups.services import job_run_queue, restore_queue, restore_run, run_backup
from tests.apps.conftest import BUSYBOX, HTTPD, install_running, wipe

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def _compose(root, hook: str = "") -> str:
    labels = f'    labels:\n      casaos.backup.hook: "{hook}"\n' if hook else ""
    return (
        f"services:\n  app:\n    image: {BUSYBOX}\n"
        '    command: ["sh", "-c", "echo started >> /config/boots; exec sleep 3600"]\n'
        f"{labels}"
        f"    volumes:\n      - data:/data\n      - {root}/${{AppID}}/config:/config\n"
        "volumes:\n  data: {}\n"
    )


@pytest.fixture
def app_root(settings, tmp_path):
    settings.APPS_DATA_ROOT = tmp_path / "AppData"
    return settings.APPS_DATA_ROOT


def _volume_dir(eng, app_name):
    (vol,) = [v for v in eng.list_volumes({}) if v.name == f"{app_name}_data"]
    return vol.mountpoint


def _backup(repository, admin_user, app_name, *, system=False) -> JobRun:
    job = BackupJob.objects.create(
        name=f"job-{app_name}-{system}",
        repository=repository,
        created_by=admin_user,
        include_system=system,
        apps=[app_name],
    )
    run = run_backup(run_id=job_run_queue(user=admin_user, job=job).pk)
    assert run.status == "done", run.error
    return run


def _running(eng, app_name) -> bool:
    return any(c.running for c in eng.list({"io.casaos.app": app_name}))


def test_an_app_is_stopped_for_its_backup_and_comes_back_with_its_data(
    docker_engine, registry, app_root, app_name, admin_user, repository
):
    from pathlib import Path

    inst = install_running(admin_user, _compose(app_root), app_name)
    config = app_root / app_name / "config"
    (config / "note.txt").write_text("mine")
    Path(_volume_dir(docker_engine, app_name), "db.txt").write_text("rows")
    run = _backup(repository, admin_user, app_name)
    assert run.downtime[app_name] > 0 and _running(docker_engine, app_name)

    wipe(docker_engine, app_name)
    shutil.rmtree(app_root / app_name)
    snap = Snapshot.objects.get(kind="app", subject=app_name)
    restored = restore_run(run_id=restore_queue(user=admin_user, snapshot=snap).pk)
    assert restored.status == "done", restored.error
    assert _running(docker_engine, app_name)
    assert (config / "note.txt").read_text() == "mine"
    assert Path(_volume_dir(docker_engine, app_name), "db.txt").read_text() == "rows"
    assert (config / "boots").read_text().count("started") >= 2  # it started again on its restored folder
    assert Installation.objects.filter(pk=inst.pk).exists()


def test_an_app_with_a_hook_stays_up_and_the_hook_runs_first(
    docker_engine, registry, app_root, app_name, admin_user, repository
):
    install_running(admin_user, _compose(app_root, hook="sh -c 'echo dumped > /config/dump.sql'"), app_name)
    (before,) = docker_engine.list({"io.casaos.app": app_name})
    run = _backup(repository, admin_user, app_name)
    (after,) = docker_engine.list({"io.casaos.app": app_name})
    assert run.downtime[app_name] == 0 and after.running and after.id == before.id
    assert (app_root / app_name / "config" / "dump.sql").read_text().strip() == "dumped"


def test_disaster_drill_the_whole_box_comes_back(
    docker_engine, registry, app_root, app_name, repository, settings, tmp_path
):
    from pathlib import Path

    from accounts.models import Authenticator, User
    from backups.wholebox import box_restore
    from tests.accounts.conftest import give_mfa, totp_code
    from tests.factories import PASSWORD, UserFactory

    boss = UserFactory(admin=True, username="boss")
    key = give_mfa(boss)
    install_running(boss, _compose(app_root), app_name)
    (app_root / app_name / "config" / "note.txt").write_text("mine")
    Path(_volume_dir(docker_engine, app_name), "db.txt").write_text("rows")
    _backup(repository, boss, app_name, system=True)
    password = repository.password

    # The disaster: the app's containers, volume and folder gone, the accounts and apps gone from the database,
    # the credentials key gone.
    wipe(docker_engine, app_name)
    shutil.rmtree(app_root / app_name)
    Installation.objects.all().delete()
    User.objects.all().delete()
    Path(settings.CREDENTIALS_KEY_FILE).unlink()

    from backups.models import Repository

    fresh = Repository(kind="local", location=repository.location, password=password)
    assert box_restore(repo=fresh) == [app_name]

    boss = User.objects.get(username="boss")
    assert boss.check_password(PASSWORD)
    device = Authenticator.objects.get(user=boss)
    assert device.bin_key == key and device.verify_token(totp_code(key))
    assert _running(docker_engine, app_name)
    assert (app_root / app_name / "config" / "note.txt").read_text() == "mine"
    assert Path(_volume_dir(docker_engine, app_name), "db.txt").read_text() == "rows"


def _store_like(root, app_name, port: int) -> str:
    """An app as the App Store writes it down: its own folder spelled out (no ${AppID}), a fixed host port."""
    return (
        f"services:\n  app:\n    image: {HTTPD}\n"
        "    stop_grace_period: 1s\n"
        f'    ports: ["127.0.0.1:{port}:8080"]\n'
        f"    volumes:\n      - data:/data\n      - {root}/{app_name}/config:/config\n"
        "volumes:\n  data: {}\n"
    )


@pytest.fixture
def copy_name(app_name, app_root, docker_engine):
    """The copy's name; whatever a test left of the copy (engine objects, folder, row) goes afterwards."""
    name = f"{app_name}c"
    yield name
    wipe(docker_engine, name)
    shutil.rmtree(app_root / name, ignore_errors=True)
    Installation.objects.filter(name=name).delete()


def _objects(eng, name) -> dict:
    from tests.apps.conftest import leftovers

    return {kind: sorted(names) for kind, names in leftovers(eng, name).items()}


def test_an_app_restores_as_a_copy_under_a_new_name_the_original_untouched(
    docker_engine, registry, app_root, app_name, copy_name, admin_user, repository
):
    from pathlib import Path

    from apps.services import app_install_run
    from tests.apps.test_change import get
    from tests.clients import logged_in
    from tests.conftest import free_port

    port = free_port()
    original = install_running(admin_user, _store_like(app_root, app_name, port), app_name)
    config = app_root / app_name / "config"
    (config / "note.txt").write_text("then")
    Path(_volume_dir(docker_engine, app_name), "db.txt").write_text("rows then")
    _backup(repository, admin_user, app_name)
    (config / "note.txt").write_text("now")
    Path(_volume_dir(docker_engine, app_name), "db.txt").write_text("rows now")
    before = _objects(docker_engine, app_name)
    ids = sorted(c.id for c in docker_engine.list({"io.casaos.app": app_name}))
    snap = Snapshot.objects.get(kind="app", subject=app_name)

    answer = logged_in(admin_user).post(
        f"/api/backups/snapshots/{snap.pk}/restore/", {"name": copy_name}, content_type="application/json"
    )
    assert answer.status_code == 202, answer.content
    run = JobRun.objects.get(pk=answer.json()["id"])
    copy = Installation.objects.get(name=copy_name)
    assert answer.json()["details"]["installation"] == copy.pk and run.status == "queued"
    assert copy.seed == {"kind": "backup", "run": run.pk}
    app_install_run(installation_id=copy.pk)  # what the worker does with the install's task

    run.refresh_from_db()
    copy.refresh_from_db()
    assert run.status == "done", run.error
    assert copy.status == Installation.Status.RUNNING and copy.seed == {}
    assert _running(docker_engine, copy_name) and _running(docker_engine, app_name)
    assert get(copy.web_port) == get(port) == "hello v1"  # both answer, each on its own host port
    # The copy has the snapshot's data, in its own folder and volume, on a host port of its own.
    assert (app_root / copy_name / "config" / "note.txt").read_text() == "then"
    assert Path(_volume_dir(docker_engine, copy_name), "db.txt").read_text() == "rows then"
    assert copy.ports != original.ports and run.details["ports"] == {f"tcp/{port}": copy.ports[0]}
    assert _objects(docker_engine, copy_name)["volumes"] == [f"{copy_name}_data"]
    # The original: the same containers, volume and folder, its data as it is now.
    assert _objects(docker_engine, app_name) == before
    assert sorted(c.id for c in docker_engine.list({"io.casaos.app": app_name})) == ids
    assert (config / "note.txt").read_text() == "now"
    assert Path(_volume_dir(docker_engine, app_name), "db.txt").read_text() == "rows now"


def test_a_copy_under_a_taken_or_invalid_name_is_refused_with_nothing_made(
    docker_engine, registry, app_root, app_name, copy_name, admin_user, repository
):
    from tests.clients import logged_in

    install_running(admin_user, _compose(app_root), app_name)
    _backup(repository, admin_user, app_name)
    snap = Snapshot.objects.get(kind="app", subject=app_name)
    client = logged_in(admin_user)
    url = f"/api/backups/snapshots/{snap.pk}/restore/"
    runs = JobRun.objects.count()

    for name, words in ((app_name, "already used"), ("Not A Name", "not a valid app name"), ("../x", "not a valid")):
        answer = client.post(url, {"name": name}, content_type="application/json")
        assert answer.status_code == 400 and words in answer.json()["detail"], answer.content
    answer = client.post(url, {"name": copy_name, "as_name": "other"}, content_type="application/json")
    assert answer.status_code == 400

    assert JobRun.objects.count() == runs and list(Installation.objects.values_list("name", flat=True)) == [app_name]
    assert _objects(docker_engine, copy_name) == {"containers": [], "networks": [], "volumes": []}
    assert not (app_root / copy_name).exists()


def test_a_copy_that_fails_midway_leaves_nothing(
    docker_engine, registry, app_root, app_name, copy_name, admin_user, repository, repo_dir
):
    from apps.services import app_install_run
    from backups.services import restore_queue

    install_running(admin_user, _compose(app_root), app_name)
    _backup(repository, admin_user, app_name)
    snap = Snapshot.objects.get(kind="app", subject=app_name)
    run = restore_queue(user=admin_user, snapshot=snap, as_name=copy_name)
    copy = Installation.objects.get(name=copy_name)
    repo_dir.rename(repo_dir.with_name("away"))  # the target is gone while the copy is installed
    try:
        app_install_run(installation_id=copy.pk)
    finally:
        repo_dir.with_name("away").rename(repo_dir)

    run.refresh_from_db()
    assert run.status == "failed" and f"the copy {copy_name} was not installed" in run.error
    assert not Installation.objects.filter(name=copy_name).exists()  # no row left at "installing", nor failed
    assert _objects(docker_engine, copy_name) == {"containers": [], "networks": [], "volumes": []}
    assert not (app_root / copy_name).exists()
    assert _running(docker_engine, app_name)
