"""Chromium: the install page's Where choice, absent on a box with a plain engine (the live stack) and offered by a
stack whose engine is the swarm's manager, at desktop and phone widths; an app installed there from the browser
onto the second machine, its page saying where it runs."""

import contextlib
import os
import re
import uuid

import pytest

from tests.conftest import ARTIFACTS, LiveStack, browser_login
from tests.swarm.test_apps_placement import TWO

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.swarm]
WIDTHS = (1440, 390)


@pytest.fixture(scope="module")
def swarm_web(live_stack, swarm_cluster):
    """A second stack (web server and worker) on the manager's engine, with a Redis database of its own: its tasks
    must not be taken by the plain stack's worker, which would place nothing on the swarm."""
    stack = LiveStack(
        {
            **live_stack.env,
            "CASAOS_ENGINE_URL": swarm_cluster.manager_url,
            "CASAOS_REDIS_URL": os.environ["CASAOS_TEST_SPARE_REDIS_URL"],
        }
    )
    stack.start()
    yield stack
    stack.stop()


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


def test_an_app_installed_from_the_browser_runs_on_the_machine_chosen(
    browser, live_stack, swarm_web, swarm_cluster, admin_user, transactional_db
):
    from apps.models import Installation

    name = f"t{uuid.uuid4().hex[:10]}"
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{swarm_web.url}/apps/install/")
        page.fill("#id_compose", TWO)
        page.fill("#id_name", name)
        page.check("input[name=where][value=node]")
        page.select_option("select[name=where_node]", label="casaos-sw2 (worker)")
        page.click("#install-form button[type=submit]")
        page.wait_for_url(re.compile(r"/apps/\d+/$"))
        page.wait_for_function(
            "() => document.querySelector('#app-install')?.dataset.status === 'running'", timeout=120_000
        )
        inst = Installation.objects.get(name=name)
        page.goto(f"{swarm_web.url}/apps/{inst.pk}/manage/")
        assert "casaos-sw2" in page.locator("#app-where").inner_text()
        assert [r.text_content() for r in page.locator(".runs-on").all()] == ["casaos-sw2", "casaos-sw2"]
        # No agent of ours on casaos-sw2: its figures are not measured, and the page says so rather than "0 bytes".
        assert "Running on casaos-sw2 (db, web)" in page.locator("#stats-elsewhere").inner_text()
        assert page.locator("#app-stats dt", has_text="Memory").count() == 0
        for width, scheme in ((1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")):
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / f"swarm-app-{width}-{scheme}.png"), full_page=True)
    finally:
        context.close()
        _uninstall(swarm_cluster, name)


def _uninstall(cluster, name: str) -> None:
    """What the test made, on the swarm: the services, then the app's network (the stack's uninstall is tested in
    tests/swarm/test_apps_placement.py)."""
    import runtime
    from apps.models import Installation
    from runtime import labels as L
    from runtime.swarm import SwarmEngine

    eng = SwarmEngine(cluster.manager_url)
    with contextlib.suppress(runtime.EngineError):
        for service in eng.list({L.APP: name}):
            eng.remove(service.id, force=True)
        for network in eng.list_networks({L.APP: name}):
            eng.remove_network(network.id)
    Installation.objects.filter(name=name).delete()
