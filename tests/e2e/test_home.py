"""Chromium: the home page's tiles. Tiles of real store apps (the official store's definitions, synced through a
store) with their menu, reordered by dragging and by the keyboard and kept after a reload; hiding a tile; the search
box driven from the keyboard; a member's home (widgets and screenshots: test_home_look.py)."""

import pytest

from apps.models import AppGrant, AppTile
from tests.conftest import browser_login
from tests.e2e.home_samples import S

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def tile_ids(page) -> list[str]:
    return page.eval_on_selector_all("#tiles .tile", "ts => ts.map(t => t.dataset.id)")


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
