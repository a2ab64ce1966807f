"""Apps with fixed container names (`container_name`, most real store apps): change, update, roll back, and a worker
dying at any step of the recreate; on Docker and Podman (real engines, loopback registry)."""

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from apps.models import AppEvent, AppLock, Installation
from apps.services.common import InstallError
from apps.services.settings_edit import ServiceEdit, app_settings_change
from apps.services.update import app_update_start
from casaos_site.i18n import shown
from runtime import labels as L
from runtime.compose import load_project
from tests.apps.conftest import BUSYBOX, HTTPD, leftovers
from tests.apps.conftest import install_running as install
from tests.apps.test_change import exec_out, exec_read, get, moving_tag_on, retag, run
from tests.conftest import free_port

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
Outcome = AppEvent.Outcome
# The checkout's neighbour `shared/` (the main checkout and worktrees sit at different depths below it).
SAMPLES = next(
    (
        p / "shared/appstore-samples/casaos-official/Apps"
        for p in Path(__file__).resolve().parents
        if (p / "shared").is_dir()
    ),
    Path("shared/appstore-samples/casaos-official/Apps"),
)


def store_sample(app: str, *, prefix: str, image: str, data: Path) -> tuple[str, dict[str, str]]:
    """A real store app (its services, fixed names, dependencies, networks, long-syntax ports and binds) with the
    test image in place of each of its images: every service serves HTTP on its first container port.

    Returns the compose document and each service's fixed container name (prefixed: names are machine-wide).
    """
    path = SAMPLES / app / "docker-compose.yml"
    if not path.exists():
        pytest.skip(f"the CasaOS app-store samples are not at {SAMPLES}")
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    names = {}
    for service, svc in tree["services"].items():
        port = next((int(p["target"]) for p in svc.get("ports") or []), 8080)
        names[service] = svc["container_name"] = f"{prefix}-{svc['container_name']}"
        svc.update(
            image=image,
            command=["httpd", "-f", "-p", str(port), "-h", "/www"],
            stop_grace_period="1s",
            healthcheck={"test": ["CMD", "wget", "-qO-", f"http://127.0.0.1:{port}/"], "interval": "1s", "retries": 5},
        )
        for entry in svc.get("ports") or []:
            entry.update(published=str(free_port()), host_ip="127.0.0.1")
        for mount in svc.get("volumes") or []:
            mount["source"] = mount["source"].replace("/DATA", str(data))
    tree["x-casaos"] = {
        **tree["x-casaos"],
        "port_map": tree["services"][tree["x-casaos"]["main"]]["ports"][0]["published"],
    }
    return yaml.safe_dump(tree, sort_keys=False), names


def names_on(eng, app: str) -> list[str]:
    return sorted(leftovers(eng, app)["containers"])


def container(eng, name: str):
    return eng.inspect(name)


# ---------------------------------------------------------------------------- change, update, roll back
def test_a_store_app_with_fixed_names_is_changed_updated_and_rolled_back(
    app_engine, admin_user, app_name, tmp_path, settings
):
    settings.APPS_WEB_TIMEOUT = 5
    settings.FILES_ROOT = tmp_path  # its data and media folders are the admin's to give
    with moving_tag_on(app_engine) as image:
        compose, names = store_sample("Linkwarden", prefix=app_name, image=image, data=tmp_path)
        inst = install(admin_user, compose, app_name)
        main = names["linkwarden"]
        assert names_on(app_engine, app_name) == sorted(names.values())  # the fixed names, not <app>-<service>-1
        others = {n: container(app_engine, n).id for n in names.values() if n != main}
        (tmp_path / "AppData" / app_name / "data" / "kept").write_text("data")

        # Settings: env, restart policy, ports and volumes of the main service at once.
        port = free_port()
        edit = ServiceEdit(
            env={"TZ": "UTC", "EXTRA": "1"},
            restart="always",
            ports=[f"127.0.0.1:{port}:3000"],
            volumes=[f"{tmp_path}/AppData/{app_name}/data:/data/data", f"{tmp_path}/media:/media:ro"],
        )
        event = run(app_settings_change(user=admin_user, installation=inst, edits={"linkwarden": edit}), inst)

        assert event.outcome == Outcome.DONE, event.message
        assert names_on(app_engine, app_name) == sorted(names.values())  # nothing set aside is left
        config = app_engine.container_config(main)
        assert "EXTRA=1" in config["Config"]["Env"] and config["HostConfig"]["RestartPolicy"]["Name"] == "always"
        assert {m["Destination"] for m in config["Mounts"]} == {"/data/data", "/media"}
        assert inst.web_port == port and get(port) == "hello v1"
        assert {n: container(app_engine, n).id for n in others} == others  # only the changed container was replaced
        assert exec_out_of(app_engine, main, "cat", "/data/data/kept") == "data"

        # A change that never becomes healthy: the very same old container comes back under its name.
        exec_out_of(app_engine, main, "sh", "-c", "echo layer > /marker")
        before = container(app_engine, main).id
        broken = ServiceEdit(ports=[f"127.0.0.1:{port}:9999"])
        event = run(app_settings_change(user=admin_user, installation=inst, edits={"linkwarden": broken}), inst)

        assert event.outcome == Outcome.ROLLED_BACK, event.message
        assert inst.status == S.RUNNING and names_on(app_engine, app_name) == sorted(names.values())
        assert container(app_engine, main).id == before and exec_out_of(app_engine, main, "cat", "/marker") == "layer"
        assert get(port) == "hello v1"

        # Update: the tag moved; every container is replaced under its own name.
        retag("2", image.rsplit(":", 1)[1])
        event = run(app_update_start(user=admin_user, installation=inst), inst)

        assert event.outcome == Outcome.DONE, event.message
        assert names_on(app_engine, app_name) == sorted(names.values())
        assert get(port) == "hello v2" and exec_out_of(app_engine, main, "cat", "/data/data/kept") == "data"


def exec_out_of(eng, name: str, *cmd: str) -> str:
    return exec_read(eng, name, cmd).strip()


def test_it_refuses_a_fixed_name_another_container_already_has(docker_engine, admin_user, app_name, registry):
    inst = install(admin_user, fixed_web(app_name), app_name)
    squatter = f"{app_name}-squatter"
    other = load_project(
        f"services:\n  s:\n    image: {HTTPD}\n    container_name: {squatter}\n", variables={}, project_name="other"
    )
    docker_engine.create(other.containers[0])
    try:
        with pytest.raises(InstallError, match="not part of this app"):
            app_settings_change(
                user=admin_user, installation=inst, compose=inst.compose.replace(f"{app_name}-web", squatter)
            )
        assert not AppEvent.objects.filter(installation=inst).exclude(operation="install").exists()
    finally:
        docker_engine.remove(squatter, force=True)


def test_a_container_in_a_replaced_ones_network_namespace_follows_it(docker_engine, admin_user, app_name, registry):
    sidecar = f"  sidecar:\n    image: {BUSYBOX}\n    network_mode: service:web\n    stop_grace_period: 1s\n"
    compose = fixed_web(app_name).replace("volumes:\n  data:", sidecar + "volumes:\n  data:")
    inst = install(admin_user, compose, app_name)
    before = {c.name: c.id for c in docker_engine.list({L.APP: app_name})}

    event = run(
        app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"A": "1"})}), inst
    )

    assert event.outcome == Outcome.DONE, event.message
    after = {c.name: c for c in docker_engine.list({L.APP: app_name})}
    assert after.keys() == before.keys() and all(after[n].id != before[n] for n in before)  # both were replaced
    web = docker_engine.inspect(f"{app_name}-web")
    assert docker_engine.container_config(f"{app_name}-sidecar-1")["HostConfig"]["NetworkMode"] == f"container:{web.id}"
    assert after[f"{app_name}-sidecar-1"].running


# ---------------------------------------------------------------------------- the worker dies at a step
def fixed_web(name: str) -> str:
    return f"""
services:
  web:
    image: {HTTPD}
    container_name: {name}-web
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment:
      GREETING: hi
    stop_grace_period: 1s
    volumes:
      - data:/data
volumes:
  data: {{}}
"""


class WorkerDied(BaseException):
    """The worker process ends here: nothing in it catches this, as nothing runs after a SIGKILL."""


class DyingEngine:
    """The real engine, until the worker dies just before (or just after) one kind of engine action."""

    def __init__(self, eng, action: str, when: str) -> None:
        self._eng, self._action, self._when = eng, action, when

    def __getattr__(self, name: str):
        attr = getattr(self._eng, name)
        if name != self._action:
            return attr

        def dying(*args, **kwargs):
            if self._when == "after":
                attr(*args, **kwargs)
            raise WorkerDied(f"{self._when} {name}")

        return dying


# (engine action, before/after it, how the recovery ends): every step of a fixed-name container's recreate.
KILL_POINTS = [
    ("stop", "before", Outcome.ROLLED_BACK),  # nothing done yet
    ("stop", "after", Outcome.ROLLED_BACK),  # the old container stopped, still under its name
    ("rename", "after", Outcome.ROLLED_BACK),  # set aside, no new container yet
    ("create", "after", Outcome.ROLLED_BACK),  # the new one exists, not started
    ("start", "after", Outcome.ROLLED_BACK),  # the new one runs, not yet known healthy
    ("remove", "before", Outcome.DONE),  # healthy and committed; the old one still set aside
    ("remove", "after", Outcome.DONE),  # committed and cleaned up; only the history line is missing
]


@pytest.mark.parametrize(
    ("engine_name", "action", "when", "outcome"),
    [(engine, *point) for engine in ("docker", "podman") for point in KILL_POINTS],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_worker_dying_at_any_step_leaves_the_app_running_under_its_name(
    engine_name, action, when, outcome, admin_user, app_name, registry, settings, monkeypatch, request
):
    from apps.services import control
    from apps.services.recovery import operation_reconcile

    eng = request.getfixturevalue("podman_engine" if engine_name == "podman" else "docker_engine")
    inst = install(admin_user, fixed_web(app_name), app_name)
    name = f"{app_name}-web"
    old = container(eng, name).id
    exec_out(eng, app_name, "sh", "-c", "echo kept > /data/file; echo layer > /marker")
    event = app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"GREETING": "new"})})

    monkeypatch.setattr(control, "engine_for", lambda inst: DyingEngine(eng, action, when))
    with pytest.raises(WorkerDied):
        control.app_operation_run(event_id=event.pk)
    monkeypatch.undo()
    left = sorted((c.id, c.name, c.state) for c in eng.list({L.APP: app_name}))
    assert control.app_operation_run(event_id=event.pk) is None  # its task again (redelivered): left to the recovery
    assert sorted((c.id, c.name, c.state) for c in eng.list({L.APP: app_name})) == left
    AppLock.objects.filter(installation=inst).update(heartbeat_at=timezone.now() - timedelta(minutes=2))

    assert operation_reconcile(stale_seconds=60) == [app_name]

    event.refresh_from_db()
    inst.refresh_from_db()
    assert (event.outcome, inst.status) == (outcome, S.RUNNING), event.message
    assert "interrupted" in shown(event.message) and not AppLock.objects.exists()
    assert names_on(eng, app_name) == [name]  # under its fixed name, nothing set aside or half-made left
    assert container(eng, name).running and exec_out_of(eng, name, "cat", "/data/file") == "kept"
    greeting = "new" if outcome == Outcome.DONE else "hi"
    assert f"GREETING={greeting}" in eng.container_config(name)["Config"]["Env"]
    if outcome == Outcome.ROLLED_BACK:  # the old container itself, its own writable layer included
        assert container(eng, name).id == old and exec_out_of(eng, name, "cat", "/marker") == "layer"
    assert get(inst.web_port) == "hello v1"
