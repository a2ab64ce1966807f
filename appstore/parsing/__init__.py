"""Reading app stores as real stores write them: locales, app templates and store layouts (no Django here)."""

from .layout import LayoutError, StoreInfo, find_v1_root, find_v2_root, read_store_info
from .locale import DEFAULT_LOCALE, localised, normalise_locale, pick
from .template import AppTemplate, BrokenApp, normalise_architectures, parse_template, project_name

__all__ = [
    "DEFAULT_LOCALE",
    "AppTemplate",
    "BrokenApp",
    "LayoutError",
    "StoreInfo",
    "find_v1_root",
    "find_v2_root",
    "localised",
    "normalise_architectures",
    "normalise_locale",
    "parse_template",
    "pick",
    "project_name",
    "read_store_info",
]
