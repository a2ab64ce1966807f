"""Chromium: add a store, watch it sync live, browse, search, open an app and read its risk report."""

import pytest

from tests.appstore.conftest import ODD_STORE, StoreServer
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def store_server(tmp_path):
    (tmp_path / "www").mkdir()
    server = StoreServer(tmp_path / "www")
    yield server
    server.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_it_syncs_a_store_then_browses_searches_and_shows_the_risk(page, live_stack, admin_user, transactional_db,
                                                                   store_server):
    from appstore.models import AppstoreSettings

    AppstoreSettings.objects.update_or_create(pk=1, defaults={"allow_lan_stores": True})
    url = store_server.publish_zip(ODD_STORE, "odd.zip")
    browser_login(page, live_stack, admin_user.username)

    page.goto(f"{live_stack.url}/appstore/stores/")
    page.fill("#id_url", url)
    page.fill("#id_name", "Odd store")
    page.click("#store-add button[type=submit]")
    row = page.locator("article.store-row", has_text="Odd store")
    row.locator("[data-status=ok]").wait_for(timeout=60_000)  # the worker synced it; the row came over the socket
    assert "6 apps" in row.inner_text() and "2 apps could not be imported" in row.inner_text()
    shot(page, "appstore-stores")

    page.goto(f"{live_stack.url}/appstore/")
    assert page.locator(".app-card").count() >= 6
    shot(page, "appstore-catalogue")
    page.fill("#catalog-search", "merges")
    page.wait_for_function("() => document.querySelectorAll('#catalog-results .app-card').length === 1")
    assert "q=merges" in page.url
    page.fill("#catalog-search", "risky")
    page.wait_for_function("() => document.querySelector('#catalog-results .app-title')?.textContent === 'Risky Agent'")
    page.click("#catalog-results .app-card-link")
    page.wait_for_selector("#risk-report")
    summary = page.locator(".risk-summary").inner_text()
    assert "full control of Docker" in summary and "your whole disk" in summary
    shot(page, "appstore-app-risky")

    page.goto(f"{live_stack.url}/appstore/")
    page.locator(".app-card-link", has_text="Hello Board").first.click()
    page.wait_for_selector("#app-title")
    assert page.locator(".app-description strong").inner_text() == "friendly"
    shot(page, "appstore-app")
    page.click("#install-button")
    page.wait_for_selector("#install-form")
    assert page.locator("label", has_text="What the page says").count() == 1
    shot(page, "appstore-install")
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_stack.url}/appstore/")
    shot(page, "appstore-catalogue-dark")
