"""Chromium: every main page in Chinese and German shows translated text and none of a known list of English words,
and fits a phone (German words are long); screenshots of each land in test-artifacts/ (lang-<language>-...)."""

import re
import shutil
import threading

import pytest

from tests.appstore.conftest import ODD_STORE, make_store, sync
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]

# Words of the page chrome (navigation, headings, buttons, labels) that must not stay English in either language.
ENGLISH = [
    "Log out", "Log in", "Settings", "Files", "Storage", "Install", "System status", "Language", "Cancel", "Save",
    "Upload", "New folder", "Change password", "Manage stores", "Categories", "Memory", "Network", "Disk", "Search",
    "Delete", "Password", "Username", "Running", "Stopped", "Failed", "Uninstall", "Open", "Trash", "Share links",
    "Users", "Security", "Sessions", "Account", "Back", "Remove", "Retry", "Download", "Rename", "Size", "Modified",
]  # fmt: skip
# A word each language's navigation shows ("Files"), proof that the page is translated at all.
TRANSLATED = {"zh-hans": "文件", "de": "Dateien"}
LOCALES = {"zh-hans": "zh-CN", "de": "de-DE"}
CHROME = "nav, header, h1, h2, h3, h4, th, label, button, legend, summary, [role=button], .badge, dt, a[role=button]"


def _catalogue_and_app():
    """A synced store and a failed install, so the app store's detail and the app's page have something to show."""
    from apps.models import Installation
    from appstore.models import AppstoreSettings

    AppstoreSettings.objects.update_or_create(pk=1, defaults={"allow_lan_stores": True})
    sync(make_store(path=str(ODD_STORE), name="Odd store"))
    compose = "services:\n  web:\n    image: 127.0.0.1:5000/casa/httpd:1\n"
    return Installation.objects.create(name="hello", title="Hello", compose=compose, status="failed", error="x")


@pytest.fixture
def pages(transactional_db):
    # In a thread of its own: the store's sync publishes through async_to_sync, which refuses to run beside
    # Playwright's event loop in this one.
    found = {}
    worker = threading.Thread(target=lambda: found.update(app=_catalogue_and_app()))
    worker.start()
    worker.join()
    return ["/", "/appstore/", "APPSTORE-DETAIL", "/apps/", f"/apps/{found['app'].pk}/", "/files/", "/storage/",
            "/settings/", "/system/status/"]  # fmt: skip


def _leftovers(page) -> list[str]:
    text = page.evaluate(f"() => [...document.querySelectorAll({CHROME!r})].map(e => e.innerText).join('\\n')")
    return [word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


def _visit(page, url: str, path: str) -> None:
    if path == "APPSTORE-DETAIL":
        page.goto(f"{url}/appstore/")
        page.locator(".app-card-link").first.click()
    else:
        page.goto(f"{url}{path}")
    page.wait_for_load_state("networkidle")


def _open_the_menu(page) -> None:
    """On a phone the navigation folds behind the Menu button: open it, so its links are read like a desktop's."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible():
        toggle.click()
        page.locator("#site-nav").wait_for()


def _walk(context, stack, user, language: str, pages: list[str], shots: str) -> dict:
    """Log in, visit each page; {path: problem} for pages left English or wider than the window."""
    page = context.new_page()
    browser_login(page, stack, user.username)
    problems, width, url = {}, page.viewport_size["width"], stack.url
    for path in pages:
        _visit(page, url, path)
        name = path.strip("/").replace("/", "-").lower() or "home"
        page.screenshot(path=str(ARTIFACTS / f"lang-{language}-{shots}-{name}.png"), full_page=True)
        _open_the_menu(page)
        if TRANSLATED[language] not in page.inner_text("body"):
            problems[path] = "not translated"
        elif leftovers := _leftovers(page):
            problems[path] = f"English left: {leftovers}"
        elif (scroll := page.evaluate("document.documentElement.scrollWidth")) > width:
            problems[path] = f"{scroll}px wide in a {width}px window"
    return problems


@pytest.mark.parametrize("language", ["zh-hans", "de"])
def test_every_main_page_speaks_the_users_language(browser, live_stack, admin_user, pages, language):
    from accounts.services.language import user_language_set

    user_language_set(user=admin_user, language=language)
    ARTIFACTS.mkdir(exist_ok=True)
    problems = {}
    for shots, viewport, scheme in (("desktop", (1440, 900), "light"), ("phone-dark", (390, 844), "dark")):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=scheme, locale="en-US"
        )
        context.set_default_timeout(15_000)
        try:
            problems |= {
                f"{shots} {p}": v for p, v in _walk(context, live_stack, admin_user, language, pages, shots).items()
            }
        finally:
            context.close()
    assert problems == {}


@pytest.mark.parametrize("language", ["zh-hans", "de"])
def test_the_login_page_follows_the_browsers_language(browser, live_stack, language, transactional_db):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=LOCALES[language])
    try:
        page = context.new_page()
        page.goto(f"{live_stack.url}/login/")
        assert page.locator("html").get_attribute("lang") == language
        assert _leftovers(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / f"lang-{language}-login.png"), full_page=True)
    finally:
        context.close()


def test_the_login_pages_switch_changes_the_language(page, live_stack, transactional_db):
    page.goto(f"{live_stack.url}/login/")
    page.select_option("#id_switch_language", "de")
    page.click(".language-switch button")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Anmelden"
    assert page.locator("html").get_attribute("lang") == "de"


def test_the_files_page_in_chinese_with_folders_and_files(browser, live_stack, admin_user, transactional_db):
    """The Files page with a listing, its selection bar and a row's menu: Chinese throughout (docs/screenshots/
    files-zh-hans.png is this page)."""
    from django.conf import settings

    from accounts.services.language import user_language_set

    user_language_set(user=admin_user, language="zh-hans")
    box = settings.FILES_ROOT / "zh-listing"
    shutil.rmtree(box, ignore_errors=True)
    for folder in ("Documents", "Photos", "Music"):
        (box / folder).mkdir(parents=True)
    for name, size in (("notes.txt", 14), ("report-2025.pdf", 180_000), ("budget.xlsx", 52_000)):
        (box / name).write_bytes(b"x" * size)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light", locale="en-US")
    try:
        page = context.new_page()
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/files/?path=zh-listing")
        page.wait_for_selector("#listing[data-path=zh-listing]")
        page.locator("#listing tbody input[type=checkbox]").last.check()
        page.locator("#listing tbody tr").last.locator(".row-menu-button").click()
        assert "文件" in page.inner_text("body")
        assert _leftovers(page) == []
        assert "selected" not in page.inner_text("#listing").lower()
        page.screenshot(path=str(ARTIFACTS / "files-zh-hans.png"), full_page=True)
    finally:
        context.close()
        shutil.rmtree(box, ignore_errors=True)
