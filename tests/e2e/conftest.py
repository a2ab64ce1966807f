import shutil

import pytest

from tests.apps import conftest as apps_fixtures
from tests.apps.test_change import moving_tag  # noqa: F401 (a fixture the app-page tests share)
from tests.appstore.conftest import ODD_STORE
from tests.e2e.home_samples import store_apps  # noqa: F401 (a fixture test_home.py and test_home_look.py share)
from tests.e2e.site_walk import build_site

app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine  # fixtures the page walk uses


@pytest.fixture(autouse=True, scope="module")
def idle_worker(live_stack):
    """Each browser module starts with an idle worker and an empty queue."""
    live_stack.restart_worker()


@pytest.fixture
def walk_site(admin_user, member_user, app_name, docker_engine, tmp_path, transactional_db):
    """A site with something on every page: an installed app, a synced store, a share link, a container by hand."""
    shutil.copytree(ODD_STORE, tmp_path / "store")
    site, cleanups = build_site(
        admin=admin_user,
        member=member_user,
        app_name=app_name,
        docker_engine=docker_engine,
        store_path=tmp_path / "store",
    )
    yield site
    for cleanup in cleanups:
        cleanup()
