"""Locale keys as real stores write them (en_us, en-US, EN_US) normalised to ll_CC, and picking one with fallback."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_LOCALE = "en_US"
_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2,4}))?$")


def normalise_locale(key: Any) -> str | None:
    """`en_us` -> `en_US`, `zh-hans` -> `zh_Hans`; None when the key does not look like a locale."""
    match = _LOCALE_RE.match(str(key).strip())
    if not match:
        return None
    lang, region = match.group(1).lower(), match.group(2)
    if not region:
        return lang
    return f"{lang}_{region.upper() if len(region) == 2 else region.title()}"


def looks_localised(value: Any) -> bool:
    """A mapping whose keys are all locales (a localised text rather than a section of texts)."""
    return isinstance(value, Mapping) and bool(value) and all(normalise_locale(k) for k in value)


def localised(value: Any) -> dict[str, str]:
    """A localised field in any spelling: a mapping of locales, or a plain string meaning en_US."""
    if value is None:
        return {}
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return {DEFAULT_LOCALE: text} if text else {}
    if not isinstance(value, Mapping):
        return {}
    texts: dict[str, str] = {}
    for key, text in value.items():
        locale = normalise_locale(key)
        if locale and isinstance(text, str | int | float) and str(text).strip():
            texts.setdefault(locale, str(text).strip())
    return texts


def django_to_locale(language: str) -> str:
    """Django's language code (de, pt-br, zh-hans) as a store locale (de, pt_BR, zh_Hans)."""
    return normalise_locale(language) or DEFAULT_LOCALE


def pick(texts: Mapping[str, str] | None, language: str = "en") -> str:
    """The text for a UI language: exact locale, same language, en_US, any English, then anything."""
    if not texts:
        return ""
    wanted = django_to_locale(language)
    if wanted in texts:
        return texts[wanted]
    lang = wanted.split("_")[0]
    same = [key for key in texts if key == lang or key.startswith(f"{lang}_")]
    if same:
        return texts[same[0]]
    if DEFAULT_LOCALE in texts:
        return texts[DEFAULT_LOCALE]
    english = [key for key in texts if key == "en" or key.startswith("en_")]
    return texts[english[0]] if english else next(iter(texts.values()))
