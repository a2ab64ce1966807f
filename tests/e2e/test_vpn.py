"""Chromium: an admin turns the VPN on and adds a phone; the QR code and the file are shown once, the file downloads
as the device's WireGuard configuration, and the page fits a phone in both schemes with no serious axe finding. (The
live stack's worker applies through the tests' recorder: no interface is made here; tests/vpn/test_tunnel.py makes
real ones.)"""

from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, browser_login
from tests.e2e.site_walk import AXE, AXE_RUN

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_phone_is_added_with_its_qr_code_once_and_the_page_fits_390_px(
    browser, live_stack, admin_user, transactional_db, scheme
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme, accept_downloads=True)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)  # a fresh login counts as a step-up
        page.goto(f"{live_stack.url}/network/vpn/")
        page.check("#id_enabled")
        page.fill("#id_endpoint", "vpn.example.org")
        page.click("#vpn-settings-form button[type=submit]")
        page.wait_for_selector("#vpn-server")
        page.fill("#id_name", "Anna's phone")
        page.click("#vpn-peer-form button[type=submit]")
        page.wait_for_selector("#vpn-created")
        assert page.evaluate("document.querySelector('.vpn-qr').naturalWidth") > 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"vpn-created-390-{scheme}.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#vpn-download")
        assert download.value.suggested_filename == "wg-Anna-s-phone.conf"
        text = Path(download.value.path()).read_text()
        assert "[Interface]" in text and "Endpoint = vpn.example.org:51820" in text
        page.goto(f"{live_stack.url}/network/vpn/")
        assert page.locator("#vpn-created").count() == 0 and page.locator(".vpn-peer").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(ARTIFACTS / f"vpn-list-390-{scheme}.png"), full_page=True)
    finally:
        context.close()


def test_axe_finds_no_serious_violation_on_the_page_with_a_new_device(
    browser, live_stack, admin_user, transactional_db
):
    """The walk sees the page without a device (tests/e2e/site_walk.py); this is the page that shows one's QR code.
    bypass_csp: the page's policy would refuse the injected axe script (nothing of the site's is bypassed)."""
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme, bypass_csp=True)
        page = context.new_page()
        try:
            browser_login(page, live_stack, admin_user.username)
            page.goto(f"{live_stack.url}/network/vpn/")
            page.fill("#id_name", f"laptop {scheme}")
            page.click("#vpn-peer-form button[type=submit]")
            page.wait_for_selector("#vpn-created")
            page.add_script_tag(path=str(AXE))
            assert page.evaluate(AXE_RUN) == [], scheme
        finally:
            context.close()
