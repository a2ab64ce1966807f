"""One way to show a time: `when` renders <time datetime="ISO in UTC" data-when>fallback</time> for datetimes, ISO
strings and file times alike (casa.js makes it relative in the browser: tests/e2e/test_layout.py)."""

from datetime import UTC, datetime, timedelta, timezone

from django.template import Context, Template

from casaos_site.templatetags.moment import when

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_a_datetime_becomes_a_time_element_in_utc():
    east = MOMENT.astimezone(timezone(timedelta(hours=8)))
    html = when(east)
    assert html.startswith('<time datetime="2026-03-04T05:06:07+00:00" data-when="">') and html.endswith("</time>")


def test_file_times_and_iso_strings_give_the_same_element():
    assert when(MOMENT.timestamp()) == when(MOMENT) == when("2026-03-04T05:06:07+00:00")


def test_a_date_only_style():
    assert 'data-when="date"' in when(MOMENT, "date")


def test_nothing_for_what_is_not_a_time():
    assert when(None) == when("") == when("soon") == when(MOMENT, "<b>") == ""


def test_the_template_filter_is_not_escaped_twice_and_defaults_work():
    html = Template('{% load moment %}{{ t|when }}|{{ none|when|default:"—" }}').render(Context({"t": MOMENT}))
    assert html.startswith("<time ") and html.endswith("|—")
