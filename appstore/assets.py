"""Icons, thumbnails and screenshots, copied at sync and served from our own origin (browsing never hotlinks).

Assets are stored by content hash (one copy however many stores or apps share it), accepted only when they
really are images, and never read from outside the store's own folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .fetch import BlockedAddress, FetchError, Limits, Unreachable, fetch
from .parsing.layout import contained

ASSET_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|gif|webp|svg)$")
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
MAX_PIXELS = 40_000_000


def assets_dir() -> Path:
    return Path(settings.APPSTORE_DIR) / "assets"


def asset_path(name: str) -> Path | None:
    """The file of a stored asset, or None for a name that is not one of ours."""
    if not ASSET_NAME.match(name):
        return None
    path = assets_dir() / name
    return path if path.is_file() else None


def _is_svg(data: bytes) -> bool:
    head = data[:2048].decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    return (
        head.startswith(("<svg", "<?xml", "<!--", "<!doctype svg"))
        and "<svg" in data[:65536].decode("utf-8", errors="ignore").lower()
    )


def image_kind(data: bytes) -> str | None:
    """png/jpg/gif/webp (checked by decoding the header) or svg; None for anything else."""
    if _is_svg(data):
        return "svg"
    # Pillow is loaded on the first icon, not at start-up: the web server and the worker import this module.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None
            img.verify()
            fmt = (img.format or "").lower()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp"}.get(fmt)


def store_asset(data: bytes) -> str:
    """Keep an image; returns its asset name, or "" when the data is not an acceptable image."""
    if not data or len(data) > settings.APPSTORE_MAX_ASSET:
        return ""
    kind = image_kind(data)
    if not kind:
        return ""
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    target = assets_dir() / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(tmp).replace(target)
    return name


class AssetCollector:
    """Resolves the asset references of one sync: store files first, then the network within a time budget."""

    def __init__(self, *, root: Path | None, allow_lan: bool, base_url: str = "", budget: float | None = None):
        self.root = root
        self.allow_lan = allow_lan
        self.base_url = base_url
        self.deadline = time.monotonic() + (settings.APPSTORE_ASSET_BUDGET if budget is None else budget)
        self.failed_hosts: set[str] = set()
        self.cache: dict[str, str] = {}
        self.limits = Limits(max_bytes=settings.APPSTORE_MAX_ASSET, connect_timeout=3, read_timeout=5, deadline=15)

    def collect(self, ref: str, *, app_dir: Path | None) -> str:
        """Asset name for a reference (URL or store-relative path), or "" when it cannot be had."""
        ref = (ref or "").strip()
        if not ref:
            return ""
        key = f"{app_dir}|{ref}"
        if key not in self.cache:
            self.cache[key] = self._resolve(ref, app_dir)
        return self.cache[key]

    def _resolve(self, ref: str, app_dir: Path | None) -> str:
        if urlsplit(ref).scheme in ("http", "https"):
            # v1 stores ship the files their CDN URLs point at: prefer the copy in the app's own folder.
            local = self._local(PurePosixPath(urlsplit(ref).path).name, app_dir)
            return local or self._remote(ref)
        if urlsplit(ref).scheme:
            return ""  # data:, file:, javascript: ... never
        if self.base_url and not self.root:
            return self._remote(urljoin(self.base_url, ref))
        return self._local(ref, app_dir if app_dir else self.root)

    def _local(self, relative: str, folder: Path | None) -> str:
        if not relative or folder is None or self.root is None:
            return ""
        path = folder / relative.lstrip("/")
        if not path.is_file() or not contained(path, self.root):
            return ""
        if path.stat().st_size > settings.APPSTORE_MAX_ASSET:
            return ""
        return store_asset(path.read_bytes())

    def _remote(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        if host in self.failed_hosts or time.monotonic() > self.deadline:
            return ""
        try:
            download = fetch(url, allow_lan=self.allow_lan, limits=self.limits)
        except (Unreachable, BlockedAddress):
            self.failed_hosts.add(host)  # one unreachable CDN must not cost a timeout per app
            return ""
        except FetchError:
            return ""
        return store_asset(download.body or b"")
