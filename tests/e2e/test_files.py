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
                    return dt; }""",
        base64.b64encode(png).decode(),
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": data})
    row = page.locator(".upload-row").first
    row.locator("progress").wait_for()
    page.wait_for_selector(".upload-row[data-done='1']")
    assert page.locator("#upload-overall-bar").get_attribute("value") == "100"
    page.wait_for_selector("#listing tr[data-entry='photo.png']")
    ARTIFACTS.mkdir(exist_ok=True)
    # The bars ease to their value (Pico's transition on ::-webkit-progress-value, which neither getAnimations()
    # nor Playwright's animations="disabled" reaches): a picture taken mid-way shows "done" beside a half bar.
    page.wait_for_timeout(1000)
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


def test_an_admin_searches_changes_permissions_and_shares_an_upload_only_folder(
    page, browser, live_stack, admin_user, transactional_db, tmp_path
):
    root = settings.FILES_ROOT
    box = root / "e2e-box"
    shutil.rmtree(box, ignore_errors=True)
    (box / "inbox" / "deep").mkdir(parents=True)
    (box / "inbox" / "deep" / "report-2024.txt").write_text("report")
    (box / "report-notes.txt").write_text("notes")
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/files/?path=e2e-box")
    page.wait_for_selector("#listing[data-path=e2e-box]")

    # Search: a listing of matches, each with the folder it is in; a click opens the file.
    page.fill("#search-form input[name=q]", "report")
    page.press("#search-form input[name=q]", "Enter")
    page.wait_for_selector("#search-results tr[data-entry='e2e-box/inbox/deep/report-2024.txt']")
    assert page.locator("#search-results a.in-folder", has_text="e2e-box/inbox/deep").count() == 1
    page.screenshot(path=str(ARTIFACTS / "files-search.png"), full_page=True)
    page.click("#search-results tr[data-entry='e2e-box/inbox/deep/report-2024.txt'] td.name a")
    page.wait_for_selector("#permissions-box")

    # The file page: owner, group and mode.
    page.fill("#permissions-box input[name=mode]", "600")
    page.click("#permissions-box button[type=submit]")
    page.wait_for_function("() => document.getElementById('entry-mode').textContent === '-rw-------'")
    assert ((box / "inbox" / "deep" / "report-2024.txt").stat().st_mode & 0o777) == 0o600
    page.screenshot(path=str(ARTIFACTS / "files-permissions-file.png"), full_page=True)

    # The folder page: recursive mode change from the row's dialog.
    page.goto(f"{live_stack.url}/files/?path=e2e-box")
    page.click("#listing tr[data-entry='inbox'] summary")  # the row's menu of actions
    page.click("#listing tr[data-entry='inbox'] [data-permissions]")
    page.wait_for_selector("#permissions-dialog[open]")
    page.fill("#permissions-dialog input[name=mode]", "750")
    page.check("#permissions-dialog input[name=recursive]")
    page.screenshot(path=str(ARTIFACTS / "files-permissions-dialog.png"), full_page=True)
    page.click("#permissions-dialog button[type=submit]")
    page.wait_for_selector("#permissions-dialog", state="hidden")
    page.wait_for_selector("#listing tr[data-entry='inbox'] code:has-text('drwxr-x---')")
    assert ((box / "inbox" / "deep" / "report-2024.txt").stat().st_mode & 0o777) == 0o750

    # An upload-only link with a password, used by someone without an account.
    page.click("#listing tr[data-entry='inbox'] summary")
    page.click("#listing tr[data-entry='inbox'] [data-share]")
    page.select_option("#share-dialog-form select[name=access]", "upload")
    page.fill("#share-dialog-form input[name=password]", "drop it")
    page.click("#share-dialog-create")
    page.wait_for_function("() => document.querySelector('#share-dialog-url').value.includes('/s/')")
    link = page.input_value("#share-dialog-url")
    fresh = browser.new_context()
    try:
        guest = fresh.new_page()
        guest.goto(link)
        guest.fill("input[name=password]", "drop it")
        guest.click("button[type=submit]")
        guest.wait_for_selector("#shared-upload")
        dropped = tmp_path / "from-a-guest.txt"
        dropped.write_text("hello from outside")
        guest.set_input_files("#share-file-input", str(dropped))
        guest.wait_for_selector("#share-upload-list li.ok")
        guest.screenshot(path=str(ARTIFACTS / "files-share-upload.png"), full_page=True)
        assert (box / "inbox" / "from-a-guest.txt").read_text() == "hello from outside"
        assert "report" not in guest.content()  # it shows nothing of the folder
    finally:
        fresh.close()
        shutil.rmtree(box, ignore_errors=True)
