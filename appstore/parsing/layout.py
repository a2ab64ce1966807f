"""Where things are in a store: the v1 repository layout (Apps/<folder>/docker-compose.yml plus store-level
lists) and the v2 static layout (store.json + index.json + per-app compose and meta files)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .locale import localised

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
MAX_JSON = 4 * 1024**2
MAX_DEPTH = 3


class LayoutError(Exception):
    """The folder or archive is not a store."""


@dataclass
class StoreInfo:
    """Store-level data: name, featured and recommended app ids, category order."""

    name: dict[str, str] = field(default_factory=dict)
    featured: set[str] = field(default_factory=set)
    recommended: set[str] = field(default_factory=set)
    categories: list[str] = field(default_factory=list)


def contained(path: Path, root: Path) -> bool:
    """`path` (after resolving links) is `root` or inside it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def read_json(path: Path, root: Path) -> Any:
    """A small JSON file inside the store, or None when absent, outside, too big or invalid."""
    if not path.is_file() or not contained(path, root) or path.stat().st_size > MAX_JSON:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None


def find_v1_root(top: Path) -> Path | None:
    """The store root of a v1 layout: the first folder (breadth first, by name) that holds `Apps/`."""
    level = [top]
    for _depth in range(MAX_DEPTH + 1):
        for folder in level:
            if (folder / "Apps").is_dir() and contained(folder / "Apps", top):
                return folder
        level = sorted(p for f in level for p in f.iterdir() if p.is_dir() and not p.is_symlink())
    return None


def find_v2_root(top: Path) -> Path | None:
    """A built v2 store (index.json beside store.json), at the top or one level down (e.g. dist/)."""
    for folder in [top, *sorted(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())]:
        if (folder / "index.json").is_file():
            return folder
    return None


def v1_app_folders(root: Path) -> Iterator[tuple[str, Path | None]]:
    """(folder name, compose file or None) for every folder under Apps/, by name."""
    apps = root / "Apps"
    for folder in sorted(apps.iterdir(), key=lambda p: p.name.lower()):
        if not folder.is_dir() or folder.is_symlink():
            continue
        compose = next((folder / n for n in COMPOSE_NAMES if (folder / n).is_file()), None)
        yield folder.name, compose if compose and contained(compose, root) else None


def _app_ids(data: Any) -> set[str]:
    """featured-apps.json / recommend-list.json: a list of {"appid": ...} or of plain ids."""
    ids = set()
    for item in data if isinstance(data, list) else []:
        value = item.get("appid") or item.get("id") if isinstance(item, dict) else item
        if isinstance(value, str) and value.strip():
            ids.add(value.strip().lower())
    return ids


def read_store_info(root: Path) -> StoreInfo:
    """The store-level files of a v1 repository (each optional)."""
    config = read_json(root / "store-config.json", root) or {}
    categories = read_json(root / "category-list.json", root) or []
    return StoreInfo(
        name=localised(config.get("name")) if isinstance(config, dict) else {},
        featured=_app_ids(read_json(root / "featured-apps.json", root)),
        recommended=_app_ids(read_json(root / "recommend-list.json", root)),
        categories=[c["name"] for c in categories if isinstance(c, dict) and isinstance(c.get("name"), str)],
    )


def v2_index_items(index: Any) -> list[dict[str, Any]]:
    """The app entries of an index.json: a list, or {"apps": [...]}."""
    items = index.get("apps") if isinstance(index, dict) else index
    return [item for item in items or [] if isinstance(item, dict) and item.get("compose_url")]
