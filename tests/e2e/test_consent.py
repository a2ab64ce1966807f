"""Chromium: the consent parts of the install pages, with a real store app that asks for host access (Glances:
the engine's socket, every process, /mnt), at phone and desktop widths, light and dark."""

import shutil

import pytest

from tests.appstore.conftest import SAMPLE_STORE, make_store, sync
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]
VIEWS = [(1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")]
CUSTOM = (
    "services:\n  web:\n    image: busybox\n    cap_add: [SYS_ADMIN]\n    volumes: ['/var:/host-var', '/srv:/srv']\n"
)


@pytest.fixture
def glances(tmp_path, transactional_db):
    """A folder store holding the official store's Glances, synced."""
    from appstore.models import AppstoreSettings, CatalogApp

    source = SAMPLE_STORE / "Apps" / "Glances"
    if not source.exists():
        pytest.skip(f"{source} is absent (the shared store samples)")
    shutil.copytree(source, tmp_path / "store" / "Apps" / "Glances")
    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)
    store = sync(make_store(path=str(tmp_path / "store"), name="Samples"))
    return CatalogApp.objects.get(store=store, store_app_id="glances")


def shot(page, name: str, width: int, scheme: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"consent-{name}-{width}-{scheme}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("width", "scheme"), VIEWS)
def test_the_consent_pages_name_each_finding_and_the_paths_to_give(
    browser, live_stack, admin_user, glances, width, scheme
):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/appstore/apps/{glances.pk}/")
        assert "full control of Docker" in page.locator("#risk-report").inner_text()
        no_sideways_scroll(page)
        shot(page, "store-app", width, scheme)

        page.goto(f"{live_stack.url}/appstore/apps/{glances.pk}/install/")
        socket = page.locator("input[name=consent_paths][value='/var/run/docker.sock']")
        assert socket.count() == 1  # the engine's socket is given only when named
        page.check("#id_consent")
        page.click("#install-submit")
        errors = page.locator("#install-form .form-error").inner_text()
        assert "/var/run/docker.sock" in errors and "consent_paths" in errors
        no_sideways_scroll(page)
        shot(page, "store-install", width, scheme)

        page.goto(f"{live_stack.url}/apps/install/")
        page.fill("#id_compose", CUSTOM)
        page.fill("#id_name", f"consent{width}{scheme}")
        page.click("#install-form button[type=submit]")
        findings = page.locator("#consent .finding")
        assert findings.count() == 3
        assert page.locator("#consent input[name=consent_paths][value='/var']").count() == 1
        assert "HostConfig.CapAdd" in page.locator("#consent").inner_text()
        no_sideways_scroll(page)
        shot(page, "custom-install", width, scheme)
    finally:
        context.close()
