"""Chinese and German are complete: every marked string of the source has a translation in both, none fuzzy, each
keeping its placeholders and markup. New strings fail here until `scripts/messages.sh` extracts them and someone
translates them (docs/development.md)."""

import ast
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ("zh_Hans", "de")
DOMAINS = ("django", "djangojs")
# The same exclusions as scripts/messages.sh (vendored, generated and test code are not ours to translate).
IGNORE = [".venv", "node_modules", "static/vendor", "staticfiles", "var", "tests", "bench", "test-artifacts", "docs"]
# Top-level entries not copied for extraction (the rest is copied without these names anywhere below it).
SKIP = {Path(p).parts[0] for p in IGNORE if "/" not in p}
SKIPPED = shutil.ignore_patterns("*.mo", "__pycache__", "vendor")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrif]|%[sdrif]|\{\w*\}|</?\w+|&\w+;")
ENTRY_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$')

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed (scripts/setup.sh)")


def _entries(po: Path) -> list[dict]:
    """The .po file's entries as dicts of their fields, plus "flags" (no dependency: the format is simple)."""
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        entry, field = {"flags": ""}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line[2:]
            elif match := ENTRY_LINE.match(line):
                field = match.group(1)
                entry[field] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and field:
                entry[field] += ast.literal_eval(line)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def _translations(entry: dict) -> list[tuple[str, str]]:
    """(source, translation) pairs: the plural forms are compared with the plural source."""
    if "msgid_plural" not in entry:
        return [(entry["msgid"], entry.get("msgstr", ""))]
    forms = sorted(key for key in entry if key.startswith("msgstr["))
    return [
        (entry["msgid"] if key == "msgstr[0]" and len(forms) > 1 else entry["msgid_plural"], entry[key])
        for key in forms
    ]


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory):
    """The committed catalogues, brought up to date with the source the way scripts/messages.sh does."""
    # In a copy of the source: makemessages writes into the locale folder above each file it reads.
    tree = tmp_path_factory.mktemp("source")
    for path in ROOT.iterdir():
        if path.name not in SKIP and not path.name.startswith("."):
            copy = shutil.copytree if path.is_dir() and not path.is_symlink() else shutil.copy
            copy(path, tree / path.name, **({"ignore": SKIPPED} if copy is shutil.copytree else {}))
    locale = tree / "locale"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tree)
        patch.setattr(settings, "LOCALE_PATHS", [locale])
        for domain in DOMAINS:
            call_command(
                "makemessages", domain=domain, locale=list(LANGUAGES), ignore_patterns=IGNORE, no_location=True,
                no_obsolete=True, verbosity=0,
            )  # fmt: skip
    return locale


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_it_translates_every_string_of_the_source(fresh_catalogues, language, domain):
    entries = _entries(fresh_catalogues / language / "LC_MESSAGES" / f"{domain}.po")
    assert entries, "no strings extracted"
    missing = [e["msgid"] for e in entries if not all(text for _source, text in _translations(e))]
    assert not missing, f"untranslated in {language} (run scripts/messages.sh, then translate): {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_translation_is_fuzzy(fresh_catalogues, language, domain):
    entries = _entries(fresh_catalogues / language / "LC_MESSAGES" / f"{domain}.po")
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy in {language}: check and clear them: {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_translation_keeps_its_placeholders_and_markup(language, domain):
    wrong = [
        (source, text)
        for entry in _entries(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po")
        for source, text in _translations(entry)
        if text and Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text))
    ]
    assert not wrong, f"placeholders differ in {language}: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_msgfmt_accepts_each_catalogue(language, domain):
    po = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_is_current(language, domain):
    # The other tests render pages in these languages from the .mo files; set-up compiles them (not committed).
    po = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, "run scripts/messages.sh compile"
