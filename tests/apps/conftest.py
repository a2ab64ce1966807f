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


def leftovers(eng: runtime.Engine, name: str) -> dict[str, list[str]]:
    """Every container, network and volume labelled with the app (all empty means nothing was left behind)."""
    app = {L.APP: name}
    return {
        "containers": [c.name for c in eng.list(app)],
        "networks": [n.name for n in eng.list_networks(app)],
        "volumes": [v.name for v in eng.list_volumes(app)],
    }


NOTHING = {"containers": [], "networks": [], "volumes": []}


def wipe(eng: runtime.Engine, name: str) -> None:
    app = {L.APP: name}
    for c in eng.list(app):
        eng.remove(c.id, force=True, volumes=True)
    for n in eng.list_networks(app):
        eng.remove_network(n.id)
    for v in eng.list_volumes(app):
        eng.remove_volume(v.name, force=True)


@pytest.fixture(params=list(ENGINES))
def app_engine(request, settings, registry) -> runtime.Engine:
    """Docker, then Podman, as the engine the services use (settings.ENGINE_URL)."""
    url = ENGINES[request.param]
    eng = runtime.get_engine(url)
    try:
        eng.version()
    except runtime.EngineError as exc:
        missing(f"{request.param} does not answer at {url} ({exc})")
    settings.ENGINE_URL = url
    return eng


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

    yield enable
    app.conf.task_always_eager = False


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
