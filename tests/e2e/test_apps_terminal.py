"""Chromium: the browser terminal of a running app is readable and still answers after the socket sat idle.

The page must render under our CSP without a single console error (xterm.js injects its own <style> elements),
in a monospace font, light text on a dark background, with rows that do not overlap.
"""

import secrets
import time

import pytest

from apps.models import Installation
from apps.services import app_install
from tests.apps import conftest as apps_fixtures
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine

COMPOSE = f"services:\n  web:\n    image: {apps_fixtures.HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
# Docker networks made by other tests on this machine make Chromium drop requests with this; it is not the page.
NETWORK_NOISE = "net::ERR_NETWORK_CHANGED"

# The terminal's lines as xterm.js rendered them, one string per row (whatever styles the page got).
ROWS = "[...document.querySelectorAll('#terminal .xterm-rows > div')].map(row => row.textContent)"

# What the user sees: the rendered rows, their font and colours, and where each row sits.
LOOK = """() => {
  const rows = document.querySelector('#terminal .xterm-rows');
  const screen = document.querySelector('#terminal .xterm-screen');
  const style = getComputedStyle(rows);
  const boxes = [...rows.children].map(r => r.getBoundingClientRect());
  // The text's own box (its font's ascent to descent), whatever box xterm.js puts around it.
  const text = [...rows.querySelectorAll('span')].find(s => s.textContent.trim()).firstChild;
  const range = document.createRange();
  range.selectNodeContents(text);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontSize} ${style.fontFamily}`;
  return {
    font: style.fontFamily,
    color: style.color,
    background: getComputedStyle(screen.parentElement).backgroundColor,
    tops: boxes.map(b => b.top),
    heights: boxes.map(b => b.height),
    glyphHeight: range.getBoundingClientRect().height,
    widths: [ctx.measureText('iiii').width, ctx.measureText('WWWW').width],
  };
}"""


# The colour of the shell's coloured answer (xterm.js sets 24-bit colours as a style attribute).
TRUE_COLOUR = """() => {
  const span = [...document.querySelectorAll('#terminal .xterm-rows span')].find(s => s.textContent === 'orange-42');
  return span && getComputedStyle(span).color;
}"""


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two `rgb(...)` colours."""

    def luminance(css: str) -> float:
        channels = [c / 255 for c in rgb(css)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _problems(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: msg.type == "error" and NETWORK_NOISE not in msg.text and problems.append(msg.text),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def _running_app(admin_user, app_name) -> Installation:
    inst = app_install(user=admin_user, compose=COMPOSE, name=app_name)  # the live worker installs it
    for _ in range(300):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    assert inst.status == Installation.Status.RUNNING, inst.error
    return inst


def _open_terminal(page, live_stack, admin_user, inst: Installation) -> None:
    browser_login(page, live_stack, admin_user.username)  # a fresh login counts as the step-up
    page.goto(f"{live_stack.url}/apps/{inst.pk}/terminal/")
    page.wait_for_function(f"() => {ROWS}.some(row => /^[/~].*[#$]\\s*$/.test(row))")  # the shell's prompt


def test_the_terminal_answers_after_idling_and_is_readable(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine
):
    inst = _running_app(admin_user, app_name)
    problems = _problems(page)
    _open_terminal(page, live_stack, admin_user, inst)

    page.wait_for_timeout(31_000)  # longer than any socket or Redis read timeout on the way
    marker = secrets.token_hex(4)
    page.click("#terminal")
    page.keyboard.type(f"echo hello-$((6*7))-{marker}\n")
    # The shell's answer on its own row, not the typed line: only the shell turns $((6*7)) into 42.
    page.wait_for_function(f"() => {ROWS}.some(row => row.trim() === 'hello-42-{marker}')")
    page.keyboard.type(r"printf '\033[38;2;255;136;0m%s\033[0m\n' orange-$((6*7))" + "\n")  # 24-bit colour
    orange = page.wait_for_function(TRUE_COLOUR).json_value()
    look = page.evaluate(LOOK)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "apps-terminal.png"), full_page=True)

    assert problems == []  # a CSP violation is a console error
    assert orange == "rgb(255, 136, 0)"
    assert "monospace" in look["font"] and look["widths"][0] == look["widths"][1], look
    assert contrast(look["color"], look["background"]) >= 7, look
    assert sum(rgb(look["color"])) > sum(rgb(look["background"]))  # light text on a dark ground
    assert look["glyphHeight"] and all(h >= look["glyphHeight"] for h in look["heights"]), look
    gaps = [b - a for a, b in zip(look["tops"], look["tops"][1:], strict=False)]
    assert all(abs(gap - look["heights"][0]) < 0.5 for gap in gaps), look  # row after row, none on another
