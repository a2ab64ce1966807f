"""The project's fixed layout: the pieces later issues build on are present."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ci_entry_point_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_django_app_and_file_of_the_layout_exists():
    for name in (
        "casaos_site",
        "accounts",
        "apps",
        "appstore",
        "files",
        "storage",
        "runtime",
        "templates",
        "static",
        "manage.py",
        "requirements.txt",
        "Makefile",
        "Procfile",
        "package.json",
        "scripts",
        "docs",
        "pyproject.toml",
        "casaos_site/events.py",
        "casaos_site/celery.py",
    ):
        assert (ROOT / name).exists(), name


def test_no_third_party_front_end_code_is_committed():
    # Libraries come from npm at set-up into static/vendor/, which git ignores.
    assert "static/vendor/" in (ROOT / ".gitignore").read_text()
