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


# Chinese is written in two scripts; stores key it by region (zh_CN, zh_TW), Django by script (zh-hans, zh-hant).
_SCRIPT_REGIONS = {"zh_Hans": ("zh_CN", "zh_SG"), "zh_Hant": ("zh_TW", "zh_HK", "zh_MO")}
_REGION_SCRIPT = {region: script for script, regions in _SCRIPT_REGIONS.items() for region in regions}


def locale_candidates(language: str) -> list[str]:
    """Store locales that suit a UI language, best first: zh-hans -> zh_Hans, zh_CN, zh_SG, zh; de -> de, de_DE;
    en -> en, en_US (stores write en_US first, and en_GB beside it)."""
    wanted = django_to_locale(language)
    lang = wanted.split("_")[0]
    home = DEFAULT_LOCALE if lang == "en" else f"{lang}_{lang.upper()}"
    return list(dict.fromkeys([wanted, *_SCRIPT_REGIONS.get(wanted, ()), lang, home]))


def _same_language(key: str, wanted: str) -> bool:
    """Another region of the same language, but never the other Chinese script."""
    lang = wanted.split("_")[0]
    if key.split("_")[0] != lang:
        return False
    script = _REGION_SCRIPT.get(key, key if key in _SCRIPT_REGIONS else "")
    return not (wanted in _SCRIPT_REGIONS and script and script != wanted)


def pick(texts: Mapping[str, str] | None, language: str = "en") -> str:
    """The text for a UI language: its locale (zh-hans -> zh_CN), another region of it, en_US, any English, then
    the first text there is."""
    if not texts:
        return ""
    for key in locale_candidates(language):
        if texts.get(key):
            return texts[key]
    wanted = django_to_locale(language)
    for key in [k for k in texts if _same_language(k, wanted)] + [DEFAULT_LOCALE, "en", "en_GB"]:
        if texts.get(key):
            return texts[key]
    english = [key for key in texts if key.startswith("en_")]
    return texts[english[0]] if english else next(iter(texts.values()))
