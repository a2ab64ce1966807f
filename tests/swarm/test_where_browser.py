"""Chromium: the install page's Where choice, absent on a box with a plain engine (the live stack) and offered by a
web server whose engine is the swarm's manager, at desktop and phone widths."""

import socket
import sys
import time

import pytest

from tests.conftest import ARTIFACTS, LiveStack, browser_login

swarm = pytest.importorskip("runtime.swarm", reason="runtime.swarm arrives with the swengine branch")
if not hasattr(swarm, "Swarm"):  # the two halves of runtime.swarm come from two branches
    pytest.skip("runtime.swarm.Swarm arrives with the nodes branch", allow_module_level=True)
pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.swarm]
WIDTHS = (1440, 390)


class WebOnly(LiveStack):
    """Only the web server (no worker: nothing is installed here), with the engine the env names."""

    def start(self) -> None:
        self.env = {**self.env, "CASAOS_BIND": f"127.0.0.1:{self.port}"}
        self.spawn("daphne-swarm", sys.executable, "manage.py", "serve")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not start; see {self.log_path('daphne-swarm')}")


@pytest.fixture(scope="module")
def swarm_web(live_stack, swarm_cluster):
    web = WebOnly({**live_stack.env, "CASAOS_ENGINE_URL": swarm_cluster.manager_url})
    web.start()
    yield web
    web.stop()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", WIDTHS)
def test_where_shows_only_on_a_swarm_manager(browser, live_stack, swarm_web, admin_user, transactional_db, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/apps/install/")
        assert page.locator("#install-where").count() == 0  # a plain engine: every app runs here

        # The session cookie is the host's, whatever the port: the second server (same database) knows it.
        page.goto(f"{swarm_web.url}/apps/install/")
        where = page.locator("#install-where")
        assert where.is_visible()
        assert page.locator("input[name=where][value=local]").is_checked()  # this box stays the default
        page.check("input[name=where][value=node]")
        page.select_option("select[name=where_node]", label="casaos-sw2 (worker)")
        assert "this box's machine" in page.locator("#where-binds").inner_text()
        no_sideways_scroll(page)
        ARTIFACTS.mkdir(exist_ok=True)
        where.screenshot(path=str(ARTIFACTS / f"install-where-{width}.png"))
    finally:
        context.close()
