"""Chromium: the App Store's address follows its search and filters (reload, a shared link, Back and Forward show
what the address says), and store content shows in the reader's language (Accept-Language zh-Hans), with real apps
of the official store; screenshots at desktop and phone widths, light and dark."""

import shutil

import pytest
from playwright.sync_api import expect

from tests.appstore.conftest import SAMPLE_STORE, make_store, sync
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]
APPS = ("Siyuan-Note", "Jellyfin", "Emby", "Audiobookshelf", "AdGuardHome", "2FAuth")
VIEWS = [(1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")]
CARDS = "#catalog-results .app-card"


@pytest.fixture
def samples(tmp_path, transactional_db):
    """A folder store of a few official apps, synced: Jellyfin and Emby are Media, Siyuan-Note has a Chinese title."""
    from appstore.models import AppstoreSettings, CatalogApp

    if not (SAMPLE_STORE / "Apps").is_dir():
        pytest.skip(f"{SAMPLE_STORE} is absent (the shared store samples)")
    for name in APPS:
        shutil.copytree(SAMPLE_STORE / "Apps" / name, tmp_path / "store" / "Apps" / name)
    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)
    store = sync(make_store(path=str(tmp_path / "store"), name="Samples"))
    assert store.status == "ok", store.error
    return {a.store_app_id: a for a in CatalogApp.objects.filter(store=store)}


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def titles(page) -> list[str]:
    return page.locator(f"{CARDS} .app-title").all_inner_texts()


def wait_for_titles(page, expected: list[str]) -> None:
    page.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('#catalog-results .app-card .app-title')]"
        ".map(t => t.textContent)) === JSON.stringify(want)",
        arg=expected,
    )


def test_the_address_follows_the_search_and_filters(page, live_stack, admin_user, samples):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/appstore/")
    everything = titles(page)
    assert len(everything) == len(APPS)

    page.fill("#catalog-search", "media")
    page.wait_for_url("**/appstore/?q=media")
    searched = titles(page)
    assert "Jellyfin" in searched and "Emby" in searched and len(searched) < len(APPS)
    page.select_option("#catalog-filters select[name=category]", "Media")
    page.wait_for_url("**/appstore/?q=media&category=Media")
    media = titles(page)

    page.reload()  # the address alone brings the same page back: search box, filter and results
    assert titles(page) == media and page.input_value("#catalog-search") == "media"
    assert page.locator("#catalog-filters select[name=category]").input_value() == "Media"

    page.go_back()  # Back: the search without the category, the search box showing it
    page.wait_for_url("**/appstore/?q=media")
    wait_for_titles(page, searched)
    # Every app found for "media" is in Media: the titles read the same before htmx brings the page of this address
    # back, so wait for that page's category filter (reading it at once read the previous page's "Media").
    expect(page.locator("#catalog-filters select[name=category]")).to_have_value("")
    assert page.input_value("#catalog-search") == "media"
    page.go_back()
    page.wait_for_url("**/appstore/")
    wait_for_titles(page, everything)
    assert page.input_value("#catalog-search") == ""
    page.go_forward()
    page.wait_for_url("**/appstore/?q=media")
    wait_for_titles(page, searched)
    assert page.input_value("#catalog-search") == "media"

    page.locator(f"{CARDS} .app-card-link", has_text="Jellyfin").click()  # a card, then Back: the whole page again
    page.wait_for_selector("#app-title")
    page.go_back()
    page.wait_for_url("**/appstore/?q=media")
    wait_for_titles(page, searched)
    assert page.locator("#catalog-filters").count() == 1  # not a bare results fragment from the cache

    shared = page.context.new_page()  # a link someone sent: the same results
    shared.goto(f"{live_stack.url}/appstore/?q=media&category=Media")
    assert titles(shared) == media
    shared.goto(f"{live_stack.url}/appstore/?category=Nope&author_type=evil")  # a stale link: everything, and why
    assert len(titles(shared)) == len(APPS)
    assert "left out" in shared.locator(".catalog-ignored").inner_text()
    shot(shared, "appstore-address-ignored")
    shared.close()


@pytest.mark.parametrize(("width", "scheme"), VIEWS)
def test_store_content_shows_in_the_readers_language(browser, live_stack, admin_user, samples, width, scheme):
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme=scheme,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"},
    )
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/appstore/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        cards = page.locator(CARDS).all_inner_texts()
        assert any("思源笔记" in c for c in cards) and any("个人媒体系统" in c for c in cards)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, f"appstore-zh-{width}-{scheme}")

        page.goto(f"{live_stack.url}/appstore/apps/{samples['jellyfin'].pk}/")
        assert "个人媒体系统" in page.locator("hgroup").first.inner_text()
        assert "Jellyfin 在媒体服务器应用中脱颖而出" in page.locator(".app-description").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, f"appstore-app-zh-{width}-{scheme}")

        page.goto(f"{live_stack.url}/appstore/apps/{samples['siyuan-note'].pk}/install/")
        assert "思源笔记" in page.locator("h1").inner_text()
        assert page.locator("#install-form label", has_text="思源笔记默认工作区").count() == 1
        shot(page, f"appstore-install-zh-{width}-{scheme}")
    finally:
        context.close()
