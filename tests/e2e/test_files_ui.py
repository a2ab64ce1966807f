"""Chromium: the Files page asks in its own dialogs (row menus, bulk actions), its address follows the folder, the
grid's thumbnails survive a refresh, and text files open in the CodeMirror editor with the concurrent-edit check."""

import io
import shutil

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def home(member_user):
    folder = settings.FILES_ROOT / "home" / member_user.username
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "docs").mkdir(parents=True)
    (folder / "notes.txt").write_text("notes")
    (folder / "taken.txt").write_text("taken")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def natives_of(page) -> list[str]:
    """window.prompt/confirm/alert would land here (and be dismissed)."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_menu(page, entry: str):
    page.click(f"#listing [data-entry='{entry}'] summary")
    return page.locator(f"#listing [data-entry='{entry}'] details.row-menu ul")


def test_files_actions_ask_in_the_pages_dialogs(page, live_stack, member_user, home, transactional_db):
    natives = natives_of(page)
    browser_login(page, live_stack, member_user.username)
    page.set_viewport_size({"width": 390, "height": 844})  # the row menu must work on a phone
    page.goto(f"{live_stack.url}/files/?path=home")
    page.wait_for_selector("#listing tr[data-entry='notes.txt']")
    assert page.locator("[data-selection]:not([disabled])").count() == 0  # nothing selected, nothing to act on

    # New folder: the field has the focus, a bad name is explained, Escape cancels and the focus comes back.
    page.click("#new-folder")
    dialog = page.locator("#prompt-dialog")
    assert dialog.is_visible() and page.evaluate("document.activeElement.id") == "prompt-dialog-input"
    page.keyboard.type("a/b")
    assert "/" in page.inner_text("#prompt-dialog-error") and page.is_disabled("#prompt-dialog-ok")
    shot(page, "files-dialog-invalid-390")
    page.keyboard.press("Escape")
    assert not dialog.is_visible() and page.evaluate("document.activeElement.id") == "new-folder"
    page.click("#new-folder")
    page.fill("#prompt-dialog-input", "Photos")
    page.keyboard.press("Enter")
    page.wait_for_selector("#listing tr[data-entry='Photos']")
    assert (home / "Photos").is_dir()

    # Rename from the row's menu: the server's refusal stays in the dialog beside the field.
    open_menu(page, "notes.txt").locator("[data-rename]").click()
    assert page.input_value("#prompt-dialog-input") == "notes.txt"
    assert page.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [0, 5]
    page.keyboard.type("taken")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('prompt-dialog-error').textContent.length > 0")
    assert dialog.is_visible() and (home / "notes.txt").exists()
    page.fill("#prompt-dialog-input", "renamed.txt")
    page.click("#prompt-dialog-ok")
    page.wait_for_selector("#listing tr[data-entry='renamed.txt']")
    assert (home / "renamed.txt").read_text() == "notes"

    # Move from the row's menu into a folder (a task), then delete from the menu: a confirmation names it.
    open_menu(page, "renamed.txt").locator("[data-move]").click()
    page.fill("#prompt-dialog-input", "home/docs")
    page.click("#prompt-dialog-ok")
    page.wait_for_selector("#listing tr[data-entry='renamed.txt']", state="detached", timeout=30_000)
    assert (home / "docs" / "renamed.txt").exists()
    menu = open_menu(page, "taken.txt")
    assert menu.locator("a[data-download]").get_attribute("href").endswith("home/taken.txt")
    assert menu.is_visible() and page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "files-row-menu-390")
    menu.locator("[data-delete]").click()
    confirm = page.locator("#confirm-dialog")
    assert "taken.txt" in confirm.inner_text()
    confirm.locator("#confirm-dialog-ok").click()
    page.wait_for_selector("#listing tr[data-entry='taken.txt']", state="detached")
    assert not (home / "taken.txt").exists()

    # Bulk: the buttons wake up with a selection; the delete asks and names what goes.
    page.check("#listing tr[data-entry='Photos'] input.select")
    assert page.locator("[data-selection][disabled]").count() == 0
    assert "1" in page.inner_text("#selection-count")
    page.click("[data-selection=delete]")
    assert "Photos" in confirm.inner_text()
    confirm.locator("button[value=cancel]").click()
    assert (home / "Photos").is_dir()
    assert natives == []


def test_the_address_follows_the_folder_and_the_grid_survives_a_refresh(
    page, live_stack, member_user, home, transactional_db
):
    pics = home / "pics"
    pics.mkdir()
    for i in range(3):
        Image.new("RGB", (640, 480), (40 * i, 120, 200)).save(pics / f"p{i}.jpg")
    browser_login(page, live_stack, member_user.username)
    start = f"{live_stack.url}/files/?path=home"
    page.goto(start)
    page.click("#listing tr[data-entry='pics'] td.name a")
    page.wait_for_selector("#listing[data-path='home/pics']")
    assert page.url == f"{start}/pics"
    page.go_back()
    page.wait_for_selector("#listing[data-path='home']")
    assert page.url == start
    page.go_forward()
    page.wait_for_selector("#listing[data-path='home/pics']")
    page.click("#grid-toggle")
    page.wait_for_selector("#listing .file-grid")
    assert page.url == f"{start}/pics&view=grid"
    page.reload()
    page.wait_for_selector("#listing .file-grid img[data-thumb]")
    # The cause of "no thumbnails on the first grid": a refresh (an upload done, a change pushed over the socket)
    # rebuilt the listing from the address, which did not say "grid", so the grid went back to a list.
    page.goto(f"{start}/pics")
    page.click("#grid-toggle")
    page.wait_for_selector("#listing .file-grid")
    page.set_input_files("#file-input", files=[{"name": "new.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.wait_for_selector(".upload-row[data-done='1']")
    page.wait_for_selector("#listing .file-grid [data-entry='new.jpg']")
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#listing img[data-thumb]')];"
        " return imgs.length === 4 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        timeout=30_000,
    )
    shot(page, "files-grid")
    # Back restores only the listing: the uploads list keeps its rows and the file picker still uploads.
    page.go_back()
    page.wait_for_selector("#listing table.files-table")
    assert page.url == f"{start}/pics"
    page.set_input_files("#file-input", files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.wait_for_selector("#listing tr[data-entry='after.jpg']")
    assert page.locator(".upload-row[data-done='1']").count() == 2


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (500, 400), (200, 60, 60)).save(buf, "JPEG")
    return buf.getvalue()


def test_text_files_open_in_the_code_editor_and_a_concurrent_change_is_refused(
    page, live_stack, member_user, home, transactional_db
):
    csp: list[str] = []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    config = home / "docs" / "compose.yaml"
    config.write_text("services:\n  web:\n    image: nginx  # the web server\n")
    browser_login(page, live_stack, member_user.username)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_stack.url}/files/view/?path=home/docs/compose.yaml")
    page.wait_for_selector("#editor-form[data-ready] .cm-content")
    assert page.locator(".cm-lineNumbers .cm-gutterElement", has_text="3").count() == 1
    # A comment is highlighted: CodeMirror parses in idle time, so under load the spans come after the text.
    expect(page.locator(".cm-line span", has_text="# the web server")).to_have_count(1)
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.cm-editor')).backgroundColor") != "rgb(255, 255, 255)"
    )
    page.click(".cm-content")
    page.keyboard.press("Control+f")
    page.wait_for_selector(".cm-search input[name=search]")
    page.keyboard.press("Escape")
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.type("    restart: always\n")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => document.getElementById('editor-status').textContent === 'Saved.'")
    assert "\n    restart: always" in config.read_text()
    shot(page, "files-editor-dark")

    config.write_text("changed elsewhere\n")  # someone else saves meanwhile
    page.keyboard.type("# mine\n")
    page.click("#save-button")
    page.wait_for_function("() => document.getElementById('editor-status').textContent.includes('changed since')")
    assert config.read_text() == "changed elsewhere\n"
    assert csp == []


def test_the_trash_asks_before_deleting_for_good_and_deleting_a_user_wants_the_name_typed(
    page, live_stack, admin_user, member_user, transactional_db
):
    from accounts.models import User
    from files.models import TrashItem

    natives = natives_of(page)
    folder = settings.FILES_ROOT / "e2e-trash"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "e2e-purge.txt").write_text("bye")
    browser_login(page, live_stack, admin_user.username)  # a fresh login: the step-up window is open
    page.goto(f"{live_stack.url}/files/?path=e2e-trash")
    open_menu(page, "e2e-purge.txt").locator("[data-delete]").click()
    page.click("#confirm-dialog-ok")
    page.wait_for_selector("#listing tr[data-entry='e2e-purge.txt']", state="detached")
    item = TrashItem.objects.get(name="e2e-purge.txt")
    page.goto(f"{live_stack.url}/files/trash/")
    page.click(f"#trash-{item.pk} [data-purge]")
    assert "e2e-purge.txt" in page.inner_text("#confirm-dialog")
    page.keyboard.press("Escape")
    assert TrashItem.objects.filter(pk=item.pk).exists()
    page.click(f"#trash-{item.pk} [data-purge]")
    with page.expect_navigation():
        page.click("#confirm-dialog-ok")
    assert not TrashItem.objects.filter(pk=item.pk).exists()

    page.goto(f"{live_stack.url}/settings/users/{member_user.pk}/")
    page.click("form[data-confirm-type] button[type=submit]")
    assert page.locator("#prompt-dialog").is_visible() and member_user.username in page.inner_text("#prompt-dialog")
    page.keyboard.type(member_user.username[:-1])
    assert page.is_disabled("#prompt-dialog-ok")
    shot(page, "accounts-user-delete-typed")
    page.keyboard.type(member_user.username[-1])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert not User.objects.filter(pk=member_user.pk).exists()
    assert natives == []
