"""Messages stored for later are kept as their English id and parameters and translated for whoever reads them."""

import pytest
from django.template import Context, Template
from django.utils import translation

from casaos_site.i18n import SEP, deferred, deferred_join, deferred_ngettext, deferred_within, fitted, shown


def test_it_stores_the_english_id_whatever_language_is_active():
    with translation.override("de"):
        assert deferred("Waiting for a worker") == "Waiting for a worker"
        assert deferred("Trying again in %(minutes)s…", minutes="x").startswith("Trying again in %(minutes)s…" + SEP)


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Trying again in 2 minutes…"), ("de", "Neuer Versuch in 2 Minuten\u00a0…")]
)
def test_it_translates_when_shown_with_nested_plural_parameters(language, expected):
    stored = deferred(
        "Trying again in %(minutes)s…", minutes=deferred_ngettext("%(n)s minute", "%(n)s minutes", 2, n=2)
    )
    with translation.override(language):
        assert shown(stored) == expected


def test_text_that_is_no_message_id_passes_unchanged():
    with translation.override("zh-hans"):
        assert shown("engine said: no such image") == "engine said: no such image"
        assert shown("") == ""
        assert shown("Unpacking") == "正在解压"


def test_a_stored_message_cut_short_still_shows_its_text():
    stored = deferred("Reading apps (%(done)s of %(total)s)", done=3, total=9)
    with translation.override("de"):
        assert shown(stored[:-4]) == "Reading apps (%(done)s of %(total)s)"


def test_the_template_filter_translates_for_the_reader():
    template = Template("{% load casa_i18n %}{{ message|shown }}")
    stored = deferred("Downloading (%(done)s of %(total)s KiB)", done=1, total=2)
    with translation.override("zh-hans"):
        assert template.render(Context({"message": stored})) == "正在下载（1 / 2 KiB）"  # noqa: RUF001 (Chinese punctuation)


@pytest.mark.django_db
def test_a_store_queued_from_a_german_page_reads_in_chinese(django_capture_on_commit_callbacks):
    from appstore.selectors import store_state
    from appstore.services import store_create, store_sync

    store = store_create(user=None, url="https://example.invalid/store.zip", name="s", sync=False)
    with translation.override("de"):
        store_sync(store=store)  # its task is never queued: the on-commit callback is not run
    store.refresh_from_db()
    assert store.message == "Waiting for a worker"
    with translation.override("zh-hans"):
        assert shown(store_state(store)["message"]) == "正在等待工作进程"


def test_a_message_too_long_for_its_column_is_cut_in_its_parameter_and_still_translates():
    stored = deferred_within(80, "Waiting for the container engine: %(error)s…", error="x" * 300)
    assert len(stored) <= 80
    with translation.override("de"):
        assert shown(stored).startswith("Warte auf die Container-Engine: xxx")


def test_a_message_whose_parts_cannot_be_cut_is_kept_as_cut_english_never_broken():
    nested = deferred("Not running: %(services)s", services="web" * 100)
    stored = fitted(deferred_join(nested, nested), 50)
    assert len(stored) == 50 and SEP not in stored
    assert stored.startswith("Not running: webweb")


def test_joined_messages_are_each_translated():
    stored = deferred_join(deferred("The install was cancelled."), deferred("Unpacking"))
    with translation.override("zh-hans"):
        assert shown(stored) == "安装已取消。正在解压"


def test_the_health_checks_read_in_the_readers_language():
    from casaos_site.health import report_rows, report_shown

    report = {
        "status": "degraded",
        "checks": {"database": "ok", "redis": deferred("database error: %(error)s", error="x")},
    }
    with translation.override("de"):
        rows = report_rows(report)
        assert report_shown(report)["checks"]["redis"] == "Datenbankfehler: x"
        assert [(str(row["label"]), row["state"]) for row in rows] == [
            ("Datenbank", "ok"),
            ("Redis", "Datenbankfehler: x"),
        ]


def test_a_parameter_may_have_any_name_even_message():
    stored = deferred("The app needs a value for %(name)s: %(message)s", name="X", message="X is required")
    with translation.override("de"):
        assert shown(stored) == "Die App braucht einen Wert für X: X is required"
    assert shown(deferred_within(255, "%(message)s", message="m", limit=1)) == "m"
