"""Fixtures for the install pipeline: unique app names, and proof that nothing is left behind."""

import contextlib
import uuid

import pytest

import runtime
from runtime import labels as L
from tests.conftest import REGISTRY, missing

HTTPD = f"{REGISTRY}/casa/httpd:1"
BUSYBOX = f"{REGISTRY}/casa/busybox:1"
ENGINES = {"docker": "unix:///var/run/docker.sock", "podman": "unix:///run/podman/podman.sock"}


def labelled(eng: runtime.Engine, labels: dict[str, str]) -> dict[str, list[str]]:
    """Every container, network and volume carrying the labels (all empty means nothing was left behind)."""
    return {
        "containers": [c.name for c in eng.list(labels)],
        "networks": [n.name for n in eng.list_networks(labels)],
        "volumes": [v.name for v in eng.list_volumes(labels)],
    }


def leftovers(eng: runtime.Engine, name: str) -> dict[str, list[str]]:
    """Everything labelled with the app."""
    return labelled(eng, {L.APP: name})


def install_running(user, compose: str, name: str, **kwargs):
    """Install through the service and run the pipeline here, as the worker would; the app must end running."""
    from apps.models import Installation
    from apps.services import app_install, app_install_run

    inst = app_install(user=user, compose=compose, name=name, **kwargs)
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == Installation.Status.RUNNING, inst.error
    return inst


NOTHING = {"containers": [], "networks": [], "volumes": []}


def wipe(eng: runtime.Engine, name: str) -> None:
    app = {L.APP: name}
    for c in eng.list(app):
        eng.remove(c.id, force=True, volumes=True)
    for n in eng.list_networks(app):
        eng.remove_network(n.id)
    for v in eng.list_volumes(app):
        eng.remove_volume(v.name, force=True)


def _use_engine(which: str, settings) -> runtime.Engine:
    """The named engine, answering, made the one the services use (settings.ENGINE_URL)."""
    url = ENGINES[which]
    eng = runtime.get_engine(url)
    try:
        eng.version()
    except runtime.EngineError as exc:
        missing(f"{which} does not answer at {url} ({exc})")
    settings.ENGINE_URL = url
    return eng


@pytest.fixture(params=list(ENGINES))
def app_engine(request, settings, registry) -> runtime.Engine:
    """Docker, then Podman, as the engine the services use."""
    return _use_engine(request.param, settings)


@pytest.fixture
def podman_engine(settings, registry) -> runtime.Engine:
    """Podman only."""
    return _use_engine("podman", settings)


@pytest.fixture
def docker_engine(settings, engine, registry) -> runtime.Engine:
    """Docker only (the default engine)."""
    settings.ENGINE_URL = ENGINES["docker"]
    return runtime.get_engine(ENGINES["docker"])


@pytest.fixture
def app_name(request):
    """A unique app name; whatever the test left on either engine is removed afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for url in ENGINES.values():
        with contextlib.suppress(runtime.EngineError):
            wipe(runtime.get_engine(url), name)


@pytest.fixture
def celery_eager():
    """Call it to run queued tasks inline from then on (for the reconcile tests)."""
    from casaos_site.celery import app

    def enable() -> None:
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    yield enable
    # Both back: a propagating eager mode left behind made a later test's eager retry raise (notifications).
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _no_stale_tasks(redis_client):
    """Tasks queued by a test (no worker runs here) must not reach a later test's live worker."""
    yield
    from casaos_site.celery import app

    app.control.purge()


@pytest.fixture
def slow_image(docker_engine):
    """A fresh image (4 MiB, in no engine) reached through a registry proxy sending 1 MiB/s: a pull to watch."""
    from tests.apps.slow_registry import SlowRegistry, delete_from_registry, push_fresh_image

    ref = push_fresh_image()
    slow = SlowRegistry(rate=1024 * 1024)
    image = slow.image(ref)
    yield image
    slow.close()
    if docker_engine.image_exists(image):
        docker_engine.remove_image(image, force=True)
    delete_from_registry(ref)


@pytest.fixture
def stepped_up(rf, admin_user):
    """A request of an admin who confirmed the password a moment ago (step-up)."""
    import time

    from django.contrib.sessions.backends.db import SessionStore

    from accounts.permissions import STEPUP_SESSION_KEY

    request = rf.post("/")
    request.user = admin_user
    request.session = SessionStore()
    request.session[STEPUP_SESSION_KEY] = time.time()
    return request
