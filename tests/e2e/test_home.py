"""Chromium: the home page. Tiles of real store apps (the official store's definitions, synced through a store) with
their menu, reordered by dragging and by the keyboard and kept after a reload; hiding a tile; widgets live over the
socket and turned off for good; the search box driven from the keyboard; a member's home; screenshots."""

import shutil

import pytest

from apps.models import AppGrant, AppTile, Installation
from appstore.parsing.locale import pick
from tests.appstore.conftest import SAMPLE_STORE, make_store, sync
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]
S = Installation.Status
SAMPLES = (
    ("Jellyfin", S.RUNNING),
    ("Nextcloud", S.RUNNING),
    ("HomeAssistant", S.STOPPED),
    ("Syncthing", S.RUNNING),
    ("Immich", S.FAILED),
    ("Vaultwarden", S.RUNNING),
)


@pytest.fixture
def store_apps(tmp_path, transactional_db):
    """A folder store with a few of the official store's apps, synced; each recorded as installed from it (the
    tiles show what the store gave: title and icon; no container is needed for what these tests look at)."""
    from appstore.models import AppstoreSettings, CatalogApp

    for folder, _status in SAMPLES:
        source = SAMPLE_STORE / "Apps" / folder
        if not source.exists():
            pytest.skip(f"{source} is absent (the shared store samples)")
        shutil.copytree(source, tmp_path / "store" / "Apps" / folder)
    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)
    store = sync(make_store(path=str(tmp_path / "store"), name="Samples"))
    installed = []
    for app, (_folder, status) in zip(
        CatalogApp.objects.filter(store=store).order_by("title_sort"), SAMPLES, strict=False
    ):
        title = pick(app.title, "en") or app.store_app_id
        installed.append(
            Installation.objects.create(
                name=app.store_app_id.lower()[:60],
                title=title,
                compose="services: {}",
                status=status,
                source=Installation.Source.STORE,
                store_ref=str(app.pk),
            )
        )
    return installed


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tile_ids(page) -> list[str]:
    return page.eval_on_selector_all("#tiles .tile", "ts => ts.map(t => t.dataset.id)")


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def saved_order(user) -> list[str]:
    return [
        str(pk)
        for pk in AppTile.objects.filter(user=user).order_by("position").values_list("installation_id", flat=True)
    ]


def test_tiles_reorder_by_keyboard_and_by_dragging_and_the_order_is_kept(page, live_stack, admin_user, store_apps):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    first, second, *_rest = tile_ids(page)
    page.focus(f"#tile-{first} .tile-open")
    with page.expect_response("**/apps/tiles/order/"):
        page.keyboard.press("Alt+ArrowRight")
    assert tile_ids(page)[:2] == [second, first]
    assert page.evaluate("document.activeElement.closest('.tile').dataset.id") == first  # focus stays on it
    assert "place 2 of" in page.locator("#tiles-status").inner_text()
    page.reload()
    assert tile_ids(page)[:2] == [second, first]

    last = tile_ids(page)[-1]
    with page.expect_response("**/apps/tiles/order/"):
        page.locator(f"#tile-{last}").drag_to(page.locator(f"#tile-{second}"))
    assert tile_ids(page)[0] == last
    page.reload()
    assert tile_ids(page)[0] == last
    assert saved_order(admin_user)[0] == last


def test_the_tile_menu_offers_every_action_and_hides_a_tile(page, live_stack, admin_user, store_apps):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    running = next(i for i in store_apps if i.status == S.RUNNING)
    tile = page.locator(f"#tile-{running.pk}")
    assert tile.locator(".status-dot.dot-running").count() == 1
    tile.locator("summary").click()
    menu = tile.locator(".tile-menu ul")
    for label in ("Open", "Stop", "Restart", "Details", "Settings", "Logs", "Uninstall…", "Hide from my page"):
        assert menu.get_by_text(label, exact=True).count() == 1, label
    assert menu.get_by_text("Start", exact=True).count() == 0  # it runs already
    menu.get_by_text("Hide from my page", exact=True).click()
    page.wait_for_function(f"() => !document.getElementById('tile-{running.pk}')")
    page.reload()
    assert page.locator(f"#tile-{running.pk}").count() == 0
    page.click("#toggle-hidden")
    assert page.locator(f"#tile-{running.pk}.tile-hidden").count() == 1


def test_a_stopped_app_offers_to_start_when_its_tile_is_clicked(page, live_stack, admin_user, store_apps):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    stopped = next(i for i in store_apps if i.status == S.STOPPED)
    page.click(f"#tile-{stopped.pk} .tile-open")
    page.wait_for_url(f"**/apps/{stopped.pk}/open/")
    assert page.locator("form button[type=submit]").first.is_visible()


def test_a_member_sees_and_controls_only_the_apps_granted_to_them(page, live_stack, member_user, store_apps):
    granted, other = store_apps[0], store_apps[1]
    AppGrant.objects.create(installation=granted, user=member_user)
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/")
    assert tile_ids(page) == [str(granted.pk)]
    page.locator(f"#tile-{granted.pk} summary").click()
    menu = page.locator(f"#tile-{granted.pk} .tile-menu ul")
    for label in ("Stop", "Restart", "Settings", "Logs", "Uninstall…"):
        assert menu.get_by_text(label, exact=True).count() == 0, label
    # The API the tiles use refuses the other app as missing, even from the member's own page.
    status = page.evaluate(
        "url => fetch(url, {method: 'POST', headers: JSON.parse(document.body.getAttribute('hx-headers'))})"
        ".then(r => r.status)",
        f"/api/apps/{other.pk}/stop/",
    )
    assert status == 404
    page.fill("#home-search", other.title)
    page.wait_for_selector("#search-results [data-group=catalog]")  # the store's entry: anyone may see it
    assert page.locator("#search-results [data-group=apps]").count() == 0  # the installed app: not theirs


def test_the_search_box_works_from_the_keyboard(page, live_stack, admin_user, store_apps):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "home-search"
    page.keyboard.type("sync")
    page.wait_for_selector("#search-results [role=option]")
    groups = page.eval_on_selector_all("#search-results .search-group", "gs => gs.map(g => g.dataset.group)")
    assert groups[:2] == ["apps", "catalog"]
    first = page.locator("#search-results [role=option]").first
    assert first.get_attribute("aria-selected") == "true"  # Enter would open the first result
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#search-results [role=option][aria-selected=true]")
    assert page.locator("#home-search").get_attribute("aria-activedescendant") == chosen.get_attribute("id")
    href = chosen.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")

    page.goto(f"{live_stack.url}/")
    page.locator("body").press("/")
    page.keyboard.type("tokens")
    page.wait_for_selector("#search-results [data-group=settings] [role=option]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/settings/tokens/")


def test_widgets_are_live_and_turned_off_for_good(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/")
    first = page.locator("#system-stats").get_attribute("data-sample-time")
    page.wait_for_function(
        "t => document.querySelector('#system-stats').dataset.sampleTime !== t", arg=first, timeout=15_000
    )
    assert page.locator("[data-widget=uptime]").is_visible()
    assert page.locator("[data-widget=network] code", has_text="lo").count() == 0  # loopback left out
    page.click("#widget-menu summary")
    with page.expect_response("**/home/widgets/"):
        page.uncheck("input[data-widget-toggle][value=uptime]")
    assert not page.locator("[data-widget=uptime]").is_visible()
    page.reload()
    assert not page.locator("[data-widget=uptime]").is_visible()
    assert page.locator("[data-widget=cpu]").is_visible()


def test_an_empty_home_leads_to_the_app_store(page, live_stack, admin_user, transactional_db):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.click("#empty-appstore")
    page.wait_for_url("**/appstore/")


@pytest.mark.parametrize(
    ("width", "scheme", "name"),
    [
        (1440, "light", "home-desktop-light"),
        (1440, "dark", "home-desktop-dark"),
        (390, "light", "home-phone"),
        (390, "dark", "home-phone-dark"),
    ],
)
def test_the_home_page_at_desktop_and_phone_width(browser, live_stack, admin_user, store_apps, width, scheme, name):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/")
        page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
        page.wait_for_function("() => [...document.querySelectorAll('.tile-icon')].every(i => !i.src || i.complete)")
        no_sideways_scroll(page)
        shot(page, name)
        page.fill("#home-search", "a")
        page.wait_for_selector("#search-results [role=option]")
        no_sideways_scroll(page)
        shot(page, f"{name}-search")
    finally:
        context.close()


def test_the_empty_home_at_desktop_and_phone_width(browser, live_stack, admin_user, transactional_db):
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            browser_login(page, live_stack, admin_user.username)
            page.goto(f"{live_stack.url}/")
            no_sideways_scroll(page)
            shot(page, f"home-empty-{width}")
        finally:
            context.close()
