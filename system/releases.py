"""Whether a newer release exists: a JSON feed, off by default (the box may be offline), fetched with a time limit.

The feed: `{"releases": [{"version": "0.2.0", "notes": "...", "url": "https://.../casaos-0.2.0.tar.gz",
"sha256": "<64 hex digits>"}]}`. A release without a well-formed sha256 is ignored: an update that cannot be checked
is never offered. Applying an update is not done here (a later issue); this only tells and shows the check it will make.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from packaging.version import InvalidVersion, Version

MAX_FEED_BYTES = 1024 * 1024
CACHE_SECONDS = 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReleaseCheck:
    """What the System page shows about updates."""

    current: str
    enabled: bool
    newer: bool = False
    version: str = ""
    notes: str = ""
    url: str = ""
    sha256: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def release_check(*, fresh: bool = False) -> ReleaseCheck:
    """The newest release above ours in the feed (cached an hour; `fresh` looks again)."""
    current = settings.CASAOS_VERSION
    url = settings.SYSTEM_RELEASE_FEED_URL
    if not url:
        return ReleaseCheck(current=current, enabled=False)
    key = f"system.release:{url}"
    found = None if fresh else cache.get(key)
    if found is None:
        found = _check(url, current)
        cache.set(key, found, CACHE_SECONDS if not found.error else 60)
    return found


def _check(url: str, current: str) -> ReleaseCheck:
    try:
        releases = _feed(url)
    except (requests.RequestException, ValueError) as exc:
        return ReleaseCheck(current=current, enabled=True, error=_("The release feed could not be read: %s") % exc)
    newest = max(_offered(releases, current), key=lambda r: Version(r["version"]), default=None)
    if newest is None:
        return ReleaseCheck(current=current, enabled=True)
    fields = {name: str(newest.get(name, "")) for name in ("version", "notes", "url", "sha256")}
    return ReleaseCheck(current=current, enabled=True, newer=True, **fields)


def _feed(url: str) -> list:
    """The feed's releases; ValueError when it is too large or not the documented shape."""
    timeout = settings.SYSTEM_RELEASE_TIMEOUT
    with requests.get(url, timeout=(timeout, timeout), stream=True, allow_redirects=False) as response:
        response.raise_for_status()
        body = response.raw.read(MAX_FEED_BYTES + 1, decode_content=True)
    if len(body) > MAX_FEED_BYTES:
        raise ValueError("feed larger than 1 MiB")
    feed = json.loads(body)
    releases = feed.get("releases") if isinstance(feed, dict) else None
    if not isinstance(releases, list):
        raise ValueError("no list of releases")
    return releases


def _offered(releases: list, current: str) -> list[dict]:
    """Releases newer than ours with a version, an https or http URL and a sha256 to check it against."""
    ours = Version(current)
    return [r for r in releases if isinstance(r, dict) and _well_formed(r) and Version(r["version"]) > ours]


def _well_formed(release: dict) -> bool:
    try:
        Version(str(release.get("version", "")))
    except InvalidVersion:
        return False
    url = str(release.get("url", ""))
    return url.startswith(("https://", "http://")) and bool(_SHA256.match(str(release.get("sha256", ""))))
