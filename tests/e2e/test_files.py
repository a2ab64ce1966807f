"""Chromium: drop a file on the folder page, watch its progress bar, preview it, share it and open the link
in a fresh browser context (no session)."""

import base64
import io
import random
import shutil

import pytest
from django.conf import settings
from PIL import Image

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def _png() -> bytes:
    rng = random.Random(7)
    image = Image.frombytes("RGB", (900, 700), bytes(rng.getrandbits(8) for _ in range(900 * 700 * 3)))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_it_uploads_by_drag_and_drop_previews_and_shares(page, browser, live_stack, member_user, transactional_db):
    png = _png()
    shutil.rmtree(settings.FILES_ROOT / "home" / member_user.username, ignore_errors=True)  # a rerun starts clean
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/files/?path=home")
    page.wait_for_selector("#listing[data-path=home]")
    data = page.evaluate_handle(
        """b64 => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                    const dt = new DataTransfer();
                    dt.items.add(new File([bytes], 'photo.png', {type: 'image/png'}));
                    return dt; }""", base64.b64encode(png).decode())
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": data})
    row = page.locator(".upload-row").first
    row.locator("progress").wait_for()
    page.wait_for_selector(".upload-row[data-done='1']")
    assert page.locator("#upload-overall-bar").get_attribute("value") == "100"
    page.wait_for_selector("#listing tr[data-entry='photo.png']")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "files-index.png"), full_page=True)
    stored = settings.FILES_ROOT / "home" / member_user.username / "photo.png"
    assert stored.read_bytes() == png

    page.click("#listing tr[data-entry='photo.png'] td.name a")
    page.wait_for_function("() => document.querySelector('#preview-image').naturalWidth === 900")
    page.fill("#share-form input[name=password]", "")
    page.click("#share-button")
    page.wait_for_function("() => document.querySelector('#share-url').value.includes('/s/')")
    link = page.input_value("#share-url")
    page.screenshot(path=str(ARTIFACTS / "files-preview.png"), full_page=True)

    fresh = browser.new_context()
    try:
        stranger = fresh.new_page()
        stranger.goto(link)
        assert stranger.locator("#shared-file h2").inner_text() == "photo.png"
        stranger.screenshot(path=str(ARTIFACTS / "files-share.png"), full_page=True)
        href = stranger.locator("#shared-download").get_attribute("href")
        response = stranger.request.get(f"{live_stack.url}{href}")
        assert response.ok and response.body() == png
        # The link opens that file only: the rest of the file manager still wants a login.
        assert stranger.request.get(f"{live_stack.url}/files/?path=home", max_redirects=0).status == 302
    finally:
        fresh.close()
