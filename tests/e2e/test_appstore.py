"""Chromium: add a store, watch it sync live, browse, search, open an app and read its risk report; install an
app from the store and watch it reach running."""

import re
import shutil
import urllib.request

import pytest

from tests.apps import conftest as apps_fixtures
from tests.appstore.conftest import ODD_STORE, StoreServer, make_store, sync
from tests.conftest import ARTIFACTS, browser_login, free_port

pytestmark = [pytest.mark.browser, pytest.mark.stack]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine


@pytest.fixture
def store_server(tmp_path):
    (tmp_path / "www").mkdir()
    server = StoreServer(tmp_path / "www")
    yield server
    server.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_it_syncs_a_store_then_browses_searches_and_shows_the_risk(
    page, live_stack, admin_user, transactional_db, store_server
):
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
    icons_loaded(page)  # the screenshot shows every icon or placeholder, none left blank
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
    icons_loaded(page)
    shot(page, "appstore-catalogue-dark")


def test_a_result_clicked_right_after_typing_a_search_opens(
    page, live_stack, admin_user, transactional_db, store_server
):
    """Leaving the search field is no new search: the results must not be re-rendered under a press on one of them
    (the field's change event, sent on blur, did that: the press began on one card and ended on its copy, no click)."""
    from appstore.models import AppstoreSettings

    AppstoreSettings.objects.update_or_create(pk=1, defaults={"allow_lan_stores": True})
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip"), name="Odd store"))
    assert store.status == "ok", store.error
    browser_login(page, live_stack, admin_user.username)

    page.goto(f"{live_stack.url}/appstore/")
    page.fill("#catalog-search", "risky")
    page.wait_for_function("() => document.querySelector('#catalog-results .app-title')?.textContent === 'Risky Agent'")
    link = page.locator("#catalog-results .app-card-link")
    link.scroll_into_view_if_needed()
    box = link.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(300)  # a person's press: long enough for a search sent on blur to come back
    page.mouse.up()
    page.wait_for_selector("#risk-report")

    page.goto(f"{live_stack.url}/appstore/")  # the filters still search as soon as they change
    page.select_option("#catalog-filters select[name=author_type]", "official")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#catalog-results .app-card')].every(c => c.querySelector('.badge-official'))"
    )
    assert "author_type=official" in page.url and page.locator("#catalog-results .app-card").count() >= 1


def icons_loaded(page) -> None:
    """Once the page has loaded, every card's icon (an asset or the placeholder) is there: no blank squares in a
    screenshot. Lazy-loaded icons do not hold the load event back, so they would still be empty here."""
    assert page.evaluate(
        "() => [...document.querySelectorAll('.app-card .app-icon')].every(img => img.complete && img.naturalWidth > 0)"
    )


@pytest.mark.docker
def test_it_installs_an_app_from_the_store_and_the_catalogue_shows_it_installed(
    page, live_stack, admin_user, transactional_db, store_server, docker_engine, app_name, tmp_path, settings
):
    from appstore.models import AppstoreSettings

    AppstoreSettings.objects.update_or_create(pk=1, defaults={"allow_lan_stores": True})
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip"), name="Odd store"))
    assert store.status == "ok", store.error
    browser_login(page, live_stack, admin_user.username)

    page.goto(f"{live_stack.url}/appstore/")
    icons_loaded(page)
    page.locator("#catalog-results .app-card-link", has_text="Hello Board").click()
    page.click("#install-button")
    port = free_port()
    page.fill("#id_name", app_name)
    page.fill("#id_port__web__0", str(port))
    data = settings.FILES_ROOT / f"{app_name}-data"  # a folder of the file manager: no host-access consent
    page.fill("#id_vol__web__0", str(data))
    page.fill("#id_env__web__GREETING", "hi there")
    page.click("#install-submit")

    page.wait_for_url(re.compile(r"/apps/\d+/$"))  # the install's live progress page
    page.wait_for_function(
        "() => document.querySelector('#app-install')?.dataset.status === 'running'", timeout=120_000
    )
    shot(page, "appstore-install-done")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
        assert answer.read().decode().strip() == "hello v1"

    page.goto(f"{live_stack.url}/appstore/")
    card = page.locator("#catalog-results .app-card", has_text="Hello Board")
    assert card.locator(".badge-installed").inner_text() == "Installed"
    assert page.locator("#catalog-results .badge-installed").count() == 1
    icons_loaded(page)
    shot(page, "appstore-catalogue-installed")

    # The store moves Hello to httpd:2: after the next sync its card and page say "Update available".
    changed = tmp_path / "odd-v2"
    shutil.copytree(ODD_STORE, changed)
    compose = changed / "Apps" / "Hello" / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("casa/httpd:1", "casa/httpd:2"))
    store_server.publish_zip(changed, "odd.zip")
    assert sync(store).status == "ok"
    page.goto(f"{live_stack.url}/appstore/")
    assert card.locator(".badge-update").inner_text() == "Update available"
    card.locator(".app-card-link").click()
    assert page.locator("#update-badge").inner_text() == "Update available"
    shot(page, "appstore-app-update")
    assert data.is_dir()  # the folder the install page named
    shutil.rmtree(data)
