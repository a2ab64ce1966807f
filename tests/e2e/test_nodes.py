"""Chromium on the Machines page of a box whose engine is the test swarm's manager (node1): node2 gets a label and is
drained and activated from its card (each asking first, in the page), a change made behind the page's back shows
without a reload, and the page fits 390 px in both schemes with no serious axe finding. node2 is put back as it was.

The page runs on a web server of its own (daphne alone: every write here is synchronous, no task is queued), its
ENGINE_URL the manager's socket; the session's live stack keeps the plain engine for every other test."""

from __future__ import annotations

import os

import pytest

from runtime.swarm import Swarm
from tests.conftest import ARTIFACTS, LiveStack, _database_url, browser_login
from tests.e2e.site_walk import AXE, AXE_RUN

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.swarm, pytest.mark.serial]


class WebOnly(LiveStack):
    """daphne without a worker: a second worker on the shared broker and data directory would sample and take tasks
    beside the session stack's."""

    def start_worker(self) -> None:
        return None


@pytest.fixture(scope="module")
def manager_stack(swarm_cluster, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "DATABASE_URL": _database_url()}
    stack = WebOnly({**env, "CASAOS_ENGINE_URL": swarm_cluster.manager_url})
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def node2_back(swarm_cluster):
    cluster = Swarm(swarm_cluster.manager_url)
    before = cluster.node(swarm_cluster.node2_id)
    yield cluster
    cluster.update_node(swarm_cluster.node2_id, availability=before.availability, labels=before.labels)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_node2_is_labelled_drained_and_activated_from_its_card(
    browser, manager_stack, swarm_cluster, admin_user, transactional_db, node2_back
):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    natives: list[str] = []
    page.on("dialog", lambda dialog: (natives.append(dialog.message), dialog.dismiss()))
    try:
        browser_login(page, manager_stack, admin_user.username)
        page.goto(f"{manager_stack.url}/nodes/")
        card = page.locator(f'[data-node="{swarm_cluster.node2_id}"]')
        assert "casaos-sw2" in card.inner_text() and fits(page)
        assert page.locator("#join-worker").inner_text().startswith("docker swarm join --token SWMTKN-1-")

        card.locator('[data-action="labels"]').click()
        card.locator("textarea[name=labels]").fill("disk=ssd\ngpu=true")
        card.locator('[data-action="labels-save"]').click()
        card = page.locator(f'[data-node="{swarm_cluster.node2_id}"]')
        card.locator("[data-node-labels]", has_text="disk=ssd").wait_for()
        assert node2_back.node(swarm_cluster.node2_id).labels == {"disk": "ssd", "gpu": "true"}

        card.locator('[data-action="drain"]').click()
        dialog = page.locator("#confirm-dialog")
        assert dialog.is_visible() and "casaos-sw2" in dialog.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "nodes-drain-confirm-390.png"))
        dialog.locator("#confirm-dialog-ok").click()
        page.locator(f'[data-node="{swarm_cluster.node2_id}"][data-availability="drain"]').wait_for()
        assert node2_back.node(swarm_cluster.node2_id).availability == "drain"
        page.locator(f'[data-node="{swarm_cluster.node2_id}"] [data-action="activate"]').click()
        page.locator(f'[data-node="{swarm_cluster.node2_id}"][data-availability="active"]').wait_for()
        assert node2_back.node(swarm_cluster.node2_id).availability == "active"

        # Behind the page's back (no event reaches it): the periodic re-read shows it without a reload.
        node2_back.update_node(swarm_cluster.node2_id, labels={"zone": "attic"})
        page.locator(f'[data-node="{swarm_cluster.node2_id}"] [data-node-labels]', has_text="zone=attic").wait_for(
            timeout=30_000
        )
        assert natives == [] and fits(page)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_fits_a_phone_and_axe_finds_nothing_serious(
    browser, manager_stack, admin_user, transactional_db, scheme
):
    """bypass_csp: the page's policy would refuse the injected axe script (nothing of the site's is bypassed)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    try:
        browser_login(page, manager_stack, admin_user.username)
        page.goto(f"{manager_stack.url}/nodes/")
        page.locator(".node-card").first.wait_for()
        assert fits(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"nodes-390-{scheme}.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(AXE_RUN) == [], scheme
        for width in (800, 1280):  # the navigation's widest row (an admin's links) just above the phone menu
            page.set_viewport_size({"width": width, "height": 900})
            assert fits(page), width
            page.screenshot(path=str(ARTIFACTS / f"nodes-{width}-{scheme}.png"))
    finally:
        context.close()
