"""Messages saved now and read later (a store's sync progress, a task's state): kept as the English message id
with its parameters, and translated when shown, so each reader sees their own language whoever wrote the row (a
Celery worker has no language; a request has its user's). makemessages extracts `deferred(...)` and
`deferred_ngettext(...)` and `deferred_within(limit, ...)` like gettext (casaos_site/management/commands/makemessages.py)."""

import json

from django.utils import translation
from django.utils.translation import gettext, ngettext
from rest_framework import serializers

SEP = "\x1f"  # the unit separator never occurs in a message: it splits the id from its JSON parameters
PLURAL, COUNT = "_plural", "_n"


def deferred(message: str, /, **params) -> str:
    """The text to store for `message` (an English msgid) and its %-parameters; shown() translates it."""
    return message + SEP + json.dumps(params, ensure_ascii=False, default=str) if params else message


def deferred_ngettext(singular: str, plural: str, count: int, /, **params) -> str:
    """The same for a message with plural forms: the count picks the form when shown."""
    return deferred(singular, **params, **{PLURAL: plural, COUNT: count})


def deferred_within(limit: int, message: str, /, **params) -> str:
    """deferred(), its longest plain parameter cut (with "…") until the stored text fits a column of `limit`."""
    text = deferred(message, **params)
    while len(text) > limit:
        plain = [key for key, value in params.items() if isinstance(value, str) and SEP not in value and len(value) > 1]
        if not plain:
            return fitted(text, limit)
        key = max(plain, key=lambda k: len(params[k]))
        params[key] = params[key][: max(0, len(params[key]) - (len(text) - limit) - 1)] + "…"
        text = deferred(message, **params)
    return text


def fitted(text: str, limit: int) -> str:
    """A stored message that fits a column of `limit`: itself, else its English text cut (never broken JSON)."""
    if len(text) <= limit:
        return text
    with translation.override("en"):
        return shown(text)[: limit - 1] + "…"


def deferred_join(first: str, *more: str) -> str:
    """Stored messages said one after the other (a failure and what its clean-up found), each shown translated."""
    if not more:
        return first
    return deferred("%(first)s %(then)s", first=first, then=deferred_join(*more))


def shown(text: str) -> str:
    """A stored message in the active language; other text (an engine's own error) passes unchanged."""
    message, _sep, raw = (text or "").partition(SEP)
    params = _params(raw)
    if PLURAL in params:
        translated = ngettext(message, params.pop(PLURAL), params.pop(COUNT, 1))
    else:
        translated = gettext(message) if message else ""
    try:
        return (
            translated % {key: shown(v) if isinstance(v, str) else v for key, v in params.items()}
            if raw
            else translated
        )
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder must not break the page
        return message


def _params(raw: str) -> dict:
    try:
        params = json.loads(raw) if raw else {}
    except ValueError:  # cut short by a column's length
        return {}
    return params if isinstance(params, dict) else {}


def shown_in(data: dict, *keys: str) -> dict:
    """A copy of `data` with the stored messages under `keys` in the active language (an API answer, a frame)."""
    return {**data, **{key: shown(str(data[key] or "")) for key in keys if key in data}}


class ShownField(serializers.CharField):
    """An API field holding a stored message: answered in the caller's language."""

    def to_representation(self, value) -> str:
        return shown(str(value))
