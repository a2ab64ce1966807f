#!/usr/bin/env bash
# Translations, the same way every time. `scripts/messages.sh` extracts every marked string (Python and templates:
# the django domain; static/js: djangojs) into locale/<lang>/LC_MESSAGES/*.po for each language we ship, then
# compiles them. `scripts/messages.sh compile` only compiles (set-up does this: .mo files are not committed).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
apt_install gettext  # msgfmt, xgettext: checked by package, so a stray msgfmt elsewhere hides nothing
LANGS=(-l zh_Hans -l de)
# Never extract from vendored, generated or test code: their strings are not ours to translate.
IGNORE=(--ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=staticfiles --ignore=var
  --ignore=tests --ignore=bench --ignore=test-artifacts --ignore=docs)
manage() { DJANGO_SETTINGS_MODULE=casaos_site.settings .venv/bin/python manage.py "$@"; }

if [ "${1:-}" != compile ]; then
  say "extracting messages into locale/"
  manage makemessages "${LANGS[@]}" "${IGNORE[@]}" --no-location --no-obsolete -v 0
  manage makemessages -d djangojs "${LANGS[@]}" "${IGNORE[@]}" --no-location --no-obsolete -v 0
fi
manage compilemessages "${LANGS[@]}" --ignore=.venv --ignore=node_modules -v 0
