"""The engine restarts in the middle of an update: the app ends rolled back and running, never half-updated;
and an engine outage in the middle of an install is waited out, then the install resumes within seconds.

Real processes: Podman's API service is killed while the new container is starting, and started again a few
seconds later (its containers live on, as Docker's do with live-restore; the API is what goes away). Podman
rather than Docker because killing the Docker daemon would stop every other container on this machine.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import runtime
from apps.models import AppEvent, Installation
from apps.services import app_install, app_install_run
from apps.services.control import app_operation_run
from apps.services.update import app_update_start
from casaos_site.i18n import shown
from runtime import labels as L
from tests.apps.conftest import HTTPD
from tests.apps.conftest import install_running as install
from tests.apps.test_change import get, moving_tag_on, retag, web
from tests.conftest import REGISTRY, ROOT

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
Outcome = AppEvent.Outcome
# The new container takes a few seconds before it serves: the update is waiting for it when the engine goes.
SLOW_START = '\n    command: ["sh", "-c", "sleep 4; exec httpd -f -p 8080 -h /www"]'


@pytest.fixture
def podman(podman_engine) -> runtime.Engine:
    yield podman_engine
    _engine_start()  # whatever happened, leave the service running for the tests after this one


@pytest.fixture
def podman_tag(podman):
    with moving_tag_on(podman) as image:
        yield image


def _engine_stop() -> None:
    subprocess.run(["pkill", "-KILL", "-f", "podman system service"], check=False)


def _engine_start() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "podman.sh")], check=True, capture_output=True, timeout=60)


def _restart_engine_once_replaced(eng: runtime.Engine, app: str, old_id: str, seen: dict) -> None:
    """Wait until the update has made the new container (the old one set aside), then take the engine away."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = {c.id for c in eng.list({L.APP: app})} - {old_id}
        if ids:
            seen["new"] = ids
            _engine_stop()
            time.sleep(4)
            _engine_start()
            return
        time.sleep(0.05)


@pytest.mark.serial  # kills the shared Podman service: Podman tests beside it would fail
def test_an_engine_restart_during_an_update_ends_rolled_back_and_running(podman, admin_user, app_name, podman_tag):
    inst = install(admin_user, _with_command(web(podman_tag)), app_name)
    (old,) = podman.list({L.APP: app_name})
    old_image = podman.container_config(old.id)["Image"]
    compose_before = inst.compose
    assert get(inst.web_port) == "hello v1"

    retag("2", podman_tag.rsplit(":", 1)[1])
    event = app_update_start(user=admin_user, installation=inst)
    seen: dict = {}
    chaos = threading.Thread(target=_restart_engine_once_replaced, args=(podman, app_name, old.id, seen))
    chaos.start()
    app_operation_run(event_id=event.pk)  # the worker's part, here: it meets the engine going away
    chaos.join(timeout=120)
    assert seen.get("new"), "the update never replaced the container; the engine was not restarted"

    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.ROLLED_BACK, (event.outcome, event.message)
    assert "engine does not answer" in shown(event.message) and "restored" in shown(event.message)
    assert inst.status == S.RUNNING, inst.error
    assert inst.compose == compose_before  # the stored configuration is the old one
    (container,) = podman.list({L.APP: app_name})  # one container: the new one is gone, nothing set aside is left
    assert container.running and container.id == old.id and container.name == old.name  # the old one came back
    assert podman.container_config(container.id)["Image"] == old_image  # by id, although the tag now means v2
    assert get(inst.web_port) == "hello v1"


def _with_command(compose: str) -> str:
    """The test app, with a start that takes a few seconds (the `command` goes under the service's keys)."""
    head, sep, rest = compose.partition("\n    volumes:")
    return head + SLOW_START + sep + rest


# ---------------------------------------------------------------------------- an outage during an install (issue 11)
class PodmanService:
    """A Podman API service of this test's own, on its own socket, over the machine's Podman storage.

    Killing it is an engine outage for the services pointed at it, and for nobody else; the containers it started
    live on (conmon keeps them), as with the shared service.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="casa-podman-"))
        self.url = f"unix://{self.folder}/podman.sock"
        (self.folder / "containers.conf").write_text(
            '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n'  # as scripts/podman.sh writes it
        )
        (self.folder / "registries.conf").write_text(
            'unqualified-search-registries = ["docker.io"]\n[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = true\n'
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "CONTAINERS_CONF": str(self.folder / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(self.folder / "registries.conf"),
        }
        log = (self.folder / "podman.log").open("ab")
        self.proc = subprocess.Popen(
            ["podman", "--log-level=info", "system", "service", "--time=0", self.url],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_for(lambda: _answers(self.url), 30, "the test's podman service")

    def kill(self) -> None:
        """SIGKILL to the service's own process only (never its containers' monitors)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        runtime.get_engine(url).version()
    except runtime.EngineError:
        return False
    return True


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"{what}: not reached within {timeout} s"
        time.sleep(0.05)
    return value


@pytest.fixture
def own_podman(podman_engine, settings):
    """The services use a Podman service this test may kill and start again."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    service = PodmanService()
    service.start()
    settings.ENGINE_URL = service.url
    yield service
    service.close()


def _stuck(runner: threading.Thread, service: PodmanService) -> str:
    """Where the install's thread waits, and the end of the service's log: what a hang after the return is on."""
    frame = sys._current_frames().get(runner.ident)
    stack = "".join(traceback.format_stack(frame)[-12:]) if frame else "(thread gone)"
    log = service.folder / "podman.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    return f"the install still runs 120 s after the engine came back, at:\n{stack}\npodman's log:\n{tail}"


def _row(pk: int) -> Installation:
    return Installation.objects.get(pk=pk)


def _saying(pk: int, text: str) -> Installation | None:
    row = _row(pk)
    return row if text in row.detail else None


def test_an_engine_outage_during_an_install_is_waited_out_and_not_counted(own_podman, admin_user, app_name):
    compose = _with_command(web(HTTPD))
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    runner = threading.Thread(target=app_install_run, kwargs={"installation_id": inst.pk})
    runner.start()
    try:
        # The container is starting (it serves after 4 s): the install is waiting for its web port.
        _wait_for(lambda: "web interface" in _row(inst.pk).detail, 90, "waiting for the web port")
        own_podman.kill()
        waiting = _wait_for(lambda: _saying(inst.pk, "Waiting for the container engine"), 15, "waiting for the engine")
        # The cause, in the engine's words: its socket gone, or (killed mid-request) the connection it dropped
        # or reset, depending on where in the request the kill lands.
        causes = (
            "Connection refused",
            "No such file",
            "closed connection without response",
            "Connection reset by peer",
        )
        assert any(cause in shown(waiting.detail) for cause in causes), waiting.detail
        time.sleep(5)  # an outage of several seconds: the install waits in place
        waiting = _row(inst.pk)
        assert (waiting.status, waiting.attempts, waiting.error) == (S.STARTING, 1, "")
    finally:
        own_podman.start()
    back = time.monotonic()
    runner.join(timeout=120)
    assert not runner.is_alive(), _stuck(runner, own_podman)  # it once stayed "starting" 120 s after the return

    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error
    assert time.monotonic() - back < 15  # resumed within seconds of the engine's return
    assert (inst.attempts, inst.error) == (1, "")  # waiting was not an attempt, and left no stale error
    assert get(inst.web_port) == "hello v1"


def test_an_engine_that_stays_away_fails_the_install_naming_the_cause(docker_engine, admin_user, app_name, settings):
    inst = app_install(user=admin_user, compose=web(HTTPD), name=app_name)
    settings.ENGINE_URL = f"unix://{tempfile.gettempdir()}/no-engine-{app_name}.sock"  # then the engine goes away
    settings.APPS_ENGINE_WAIT = 2

    app_install_run(installation_id=inst.pk)

    inst.refresh_from_db()
    assert (inst.status, inst.attempts) == (S.FAILED, 1)
    assert shown(inst.error).startswith("The container engine did not answer for 2 seconds"), inst.error
    assert "No such file or directory" in shown(inst.error)


@pytest.mark.serial  # kills the shared Podman service: Podman tests beside it would fail
def test_an_engine_away_longer_than_the_wait_leaves_the_change_to_the_recovery(
    podman, admin_user, app_name, registry, monkeypatch
):
    from apps.models import AppLock
    from apps.services import reconfigure
    from apps.services.recovery import operation_reconcile
    from apps.services.settings_edit import app_settings_change

    monkeypatch.setattr(reconfigure, "ENGINE_WAIT", 0)  # the engine stays away longer than the change waits
    fixed = web(f"{REGISTRY}/casa/httpd:1").replace("    image:", f"    container_name: {app_name}-web\n    image:")
    inst = install(admin_user, fixed, app_name)
    name = f"{app_name}-web"
    old = podman.inspect(name)
    event = app_settings_change(user=admin_user, installation=inst, compose=_with_command(fixed))
    seen: dict = {}
    chaos = threading.Thread(target=_engine_away_once_replaced, args=(podman, app_name, old.id, seen))
    chaos.start()

    app_operation_run(event_id=event.pk)  # meets the engine gone, and cannot restore: it leaves the app locked
    chaos.join(timeout=120)
    assert seen.get("new"), "the change never made the new container; the engine was not stopped"
    event.refresh_from_db()
    assert event.outcome == Outcome.STARTED and AppLock.objects.filter(installation=inst).exists()

    _engine_start()
    AppLock.objects.filter(installation=inst).update(heartbeat_at=timezone.now() - timedelta(minutes=2))
    assert operation_reconcile(stale_seconds=60) == [app_name]

    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.ROLLED_BACK, event.message
    assert inst.status == S.RUNNING and not AppLock.objects.exists()
    (container,) = podman.list({L.APP: app_name})  # the old container itself, under its fixed name
    assert (container.id, container.name) == (old.id, name) and container.running
    assert get(inst.web_port) == "hello v1"


def _engine_away_once_replaced(eng: runtime.Engine, app: str, old_id: str, seen: dict) -> None:
    """Stop the engine once the change has made the new container (started again by the test, much later)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = {c.id for c in eng.list({L.APP: app})} - {old_id}
        if ids:
            seen["new"] = ids
            _engine_stop()
            return
        time.sleep(0.05)
