"""Fetching and reading a store: download (conditional, bounded), unpack (contained), parse, collect assets.

This module produces a ParsedStore or raises SyncError / Unchanged; services.store_sync_run swaps the result
into the database, so a failure anywhere here leaves the last good catalogue untouched.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from casaos_site.i18n import deferred

from .archive import ArchiveError, ArchiveLimits, extract_zip
from .assets import AssetCollector
from .fetch import FetchError, Limits, NotModified, fetch
from .parsing import (
    AppTemplate,
    BrokenApp,
    StoreInfo,
    find_v1_root,
    find_v2_root,
    normalise_locale,
    parse_template,
    read_store_info,
)
from .parsing.layout import MAX_JSON, contained, read_json, v1_app_folders, v2_index_items
from .risk import RiskReport, unchecked_report

log = logging.getLogger(__name__)

Report = Callable[[int, str], None]


class SyncError(Exception):
    """The store could not be synced; the message is shown on the store and the old catalogue stays.

    `code` is a FetchError code, or archive (the zip is refused), content (no store in it), folder (missing).
    """

    def __init__(self, message: str, code: str = "other") -> None:
        super().__init__(message)
        self.code = code


class Unchanged(Exception):
    """The source has not changed since the last good sync: nothing to do."""


@dataclass
class Validators:
    """What we remember about the last good download."""

    etag: str = ""
    last_modified: str = ""
    sha256: str = ""


@dataclass
class ParsedApp:
    """A template with its assets resolved and its risk computed."""

    template: AppTemplate
    icon: str = ""
    thumbnail: str = ""
    screenshots: list[str] = field(default_factory=list)
    risk: dict = field(default_factory=dict)
    needs_consent: bool = False


@dataclass
class ParsedStore:
    """The result of reading a whole store."""

    info: StoreInfo
    apps: list[ParsedApp]
    problems: list[dict[str, str]]
    validators: Validators = field(default_factory=Validators)


def store_dir(store_id: int) -> Path:
    """The one folder a store may write to."""
    return Path(settings.APPSTORE_DIR) / "stores" / str(store_id)


def _download_limits(max_bytes: int, *, ends: float | None = None) -> Limits:
    """The settings' limits; `ends` (a time.monotonic() value) shares one deadline between several downloads."""
    deadline = settings.APPSTORE_DOWNLOAD_DEADLINE if ends is None else max(ends - time.monotonic(), 0)
    return Limits(
        max_bytes=max_bytes,
        connect_timeout=settings.APPSTORE_CONNECT_TIMEOUT,
        read_timeout=settings.APPSTORE_READ_TIMEOUT,
        deadline=deadline,
    )


def _too_slow() -> SyncError:
    seconds = settings.APPSTORE_DOWNLOAD_DEADLINE
    return SyncError(f"the store's files took longer than {seconds} seconds to download", "deadline")


# ---------------------------------------------------------------------------- reading apps
def _finish(
    template: AppTemplate, assets: AssetCollector, app_dir: Path | None, *, icon: str = "", thumbnail: str = ""
) -> ParsedApp:
    report = template_risk(template)
    return ParsedApp(
        template=template,
        icon=assets.collect(icon or template.icon, app_dir=app_dir),
        thumbnail=assets.collect(thumbnail or template.thumbnail, app_dir=app_dir),
        screenshots=[name for ref in template.screenshots[:8] if (name := assets.collect(ref, app_dir=app_dir))],
        risk=report.as_dict(),
        needs_consent=report.needs_consent,
    )


def template_risk(template: AppTemplate) -> RiskReport:
    """The report of a default install (the form's values for this machine), as an admin would install it."""
    if template.project is None:
        return unchecked_report(template.unchecked)
    from .install import store_risk
    from .models import CatalogApp

    app = CatalogApp(store_app_id=template.store_app_id, compose=template.compose, services=template.services)
    return store_risk(app)


def _dedupe(apps: list[ParsedApp], problems: list[dict[str, str]]) -> list[ParsedApp]:
    """Two folders declaring the same app id: the first (by folder name) wins, the other is listed."""
    seen: dict[str, ParsedApp] = {}
    for app in apps:
        key = app.template.store_app_id
        if key in seen:
            problems.append(
                {
                    "app": app.template.folder or key,
                    "reason": f"same app id {key!r} as {seen[key].template.folder or key!r}",
                }
            )
        else:
            seen[key] = app
    return list(seen.values())


def read_v1(root: Path, *, allow_lan: bool, report: Report) -> ParsedStore:
    """Apps/<folder>/docker-compose.yml of a repository checkout or unpacked zip."""
    folders = list(v1_app_folders(root))
    assets = AssetCollector(root=root, allow_lan=allow_lan)
    apps, problems = [], []
    for i, (name, compose) in enumerate(folders):
        if i % 10 == 0:
            report(
                30 + int(60 * i / max(len(folders), 1)),
                deferred("Reading apps (%(done)s of %(total)s)", done=i, total=len(folders)),
            )
        if compose is None:
            problems.append({"app": name, "reason": "no docker-compose.yml in the folder"})
            continue
        try:
            template = parse_template(compose.read_bytes(), folder=name)
        except (BrokenApp, OSError) as exc:
            problems.append({"app": name, "reason": str(exc)[:500]})
            continue
        apps.append(_finish(template, assets, compose.parent))
    return ParsedStore(info=read_store_info(root), apps=_dedupe(apps, problems), problems=problems)


# Where a v2 store over HTTP may have locale variants (a folder is listed instead): CasaOS's supported-languages.json.
V2_LOCALES = (
    "ca_ES",
    "cs_CZ",
    "da_DK",
    "de_DE",
    "el_GR",
    "en_GB",
    "en_US",
    "es_ES",
    "fr_FR",
    "ga_IE",
    "hr_HR",
    "hu_HU",
    "it_IT",
    "ja_JP",
    "ko_KR",
    "ml_IN",
    "nb_NO",
    "nl_NL",
    "pl_PL",
    "pt_BR",
    "pt_PT",
    "ro_RO",
    "ru_RU",
    "sk_SK",
    "sv_SE",
    "tr_TR",
    "zh_CN",
    "zh_TW",
)
_LOCALISED = ("title", "tagline", "description", "release_notes")


class _V2Reader:
    """Reads the files of a built v2 store, from a folder (contained) or over HTTP relative to index.json.

    Over HTTP all of them, index.json included, share one download deadline: a store served slowly on purpose
    must not hold a worker for the deadline once per file.
    """

    def __init__(self, *, base_url: str = "", root: Path | None = None, allow_lan: bool = False):
        self.base_url, self.root, self.allow_lan = base_url, root, allow_lan
        self.ends = time.monotonic() + settings.APPSTORE_DOWNLOAD_DEADLINE

    def limits(self, max_bytes: int = MAX_JSON) -> Limits:
        return _download_limits(max_bytes, ends=self.ends)

    def read(self, ref: str, max_bytes: int = MAX_JSON) -> bytes:
        if self.root is not None:
            path = self.root / ref.lstrip("/")
            if urlsplit(ref).scheme or not path.is_file() or not contained(path, self.root):
                raise BrokenApp(f"{ref!r} is not a file inside the store")
            if path.stat().st_size > max_bytes:
                raise BrokenApp(f"{ref!r} is too large")
            return path.read_bytes()
        try:
            return fetch(urljoin(self.base_url, ref), allow_lan=self.allow_lan, limits=self.limits(max_bytes)).body
        except FetchError as exc:
            if exc.code == "deadline":  # the whole store's time is up, not this app's: stop the sync
                raise _too_slow() from None
            raise BrokenApp(str(exc)) from None

    def read_json(self, ref: str) -> dict | None:
        """A JSON object that may be absent (locale variants exist only for the locales a store defines)."""
        try:
            data = json.loads(self.read(ref))
        except (BrokenApp, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def locales(self) -> list[str]:
        """The locales whose index.{locale}.json may exist: the folder's own files, else the known candidates."""
        if self.root is None:
            return list(V2_LOCALES)
        names = (p.name.removeprefix("index.").removesuffix(".json") for p in self.root.glob("index.*.json"))
        return sorted({locale for name in names if (locale := normalise_locale(name))})


def _v2_locale_indexes(reader: _V2Reader) -> dict[str, dict[str, dict]]:
    """{locale: {app id: listing item}} of every index.{locale}.json the store has."""
    found = {}
    for locale in reader.locales():
        try:
            items = v2_index_items(json.loads(reader.read(f"index.{locale}.json")))
        except (BrokenApp, ValueError):
            continue
        found[locale] = {str(item["id"]): item for item in items if item.get("id")}
    return found


def _locale_ref(meta_url: str, locale: str) -> str:
    """apps/x/meta.json -> apps/x/meta.de_DE.json"""
    return re.sub(r"\.json$", f".{locale}.json", meta_url)


def _v2_localise(
    template: AppTemplate, app_id: str, meta_url: str, indexes: dict[str, dict[str, dict]], reader: _V2Reader
) -> None:
    """Add the other locales' texts: titles and taglines from index.{locale}.json, the rest from meta.{locale}.json
    (fetched only for locales whose index lists the app, the build's sign that the app defines them)."""
    for locale, listing in indexes.items():
        entry = listing.get(app_id)
        if entry is None:
            continue
        own = str(entry.get("meta_url") or "")  # a locale index may name its meta file itself
        ref = own if own and own != meta_url else _locale_ref(meta_url, locale) if meta_url else ""
        meta = reader.read_json(ref) if ref else None
        texts = {**(meta or {}), **{k: entry[k] for k in ("title", "tagline") if entry.get(k)}}
        texts.setdefault("release_notes", texts.get("release_note"))
        for key in _LOCALISED:
            if isinstance(texts.get(key), str) and texts[key].strip():
                getattr(template, key).setdefault(locale, texts[key].strip())
        tips = texts.get("tips")
        for section, text in tips.items() if isinstance(tips, dict) else [("before_install", tips)]:
            if isinstance(text, str) and text.strip():
                template.tips.setdefault(str(section), {}).setdefault(locale, text.strip())


def read_v2(index: object, reader: _V2Reader, *, allow_lan: bool, report: Report) -> ParsedStore:
    """Every app of a v2 index.json: its built compose plus meta.json."""
    items = v2_index_items(index)
    indexes = _v2_locale_indexes(reader)
    assets = AssetCollector(root=reader.root, allow_lan=allow_lan, base_url=reader.base_url)
    apps, problems = [], []
    for i, item in enumerate(items):
        if i % 10 == 0:
            report(
                30 + int(60 * i / max(len(items), 1)),
                deferred("Reading apps (%(done)s of %(total)s)", done=i, total=len(items)),
            )
        label = str(item.get("id") or item.get("compose_url"))[:200]
        try:
            compose = reader.read(str(item["compose_url"]))
            meta = json.loads(reader.read(str(item["meta_url"]))) if item.get("meta_url") else {}
            meta = {
                **{
                    k: item[k]
                    for k in ("tagline", "category", "author", "developer", "architectures", "version")
                    if k in item
                },
                **(meta if isinstance(meta, dict) else {}),
            }
            template = parse_template(compose, folder=label, meta=meta, content_hash=str(item.get("content_hash", "")))
            _v2_localise(template, str(item.get("id") or ""), str(item.get("meta_url") or ""), indexes, reader)
        except (BrokenApp, ValueError, OSError) as exc:
            problems.append({"app": label, "reason": str(exc)[:500]})
            continue
        apps.append(
            _finish(
                template, assets, None, icon=str(item.get("icon") or ""), thumbnail=str(item.get("thumbnail") or "")
            )
        )
    return ParsedStore(info=StoreInfo(), apps=_dedupe(apps, problems), problems=problems)


# ---------------------------------------------------------------------------- sources
def read_folder(path: str, *, allow_lan: bool, report: Report) -> ParsedStore:
    """A store on this machine: a v1 repository or a built v2 folder."""
    if not allow_lan:  # a folder is a store on this machine: the same switch as loopback and LAN URLs
        raise SyncError(f"{path} is on this machine, and stores on this machine are not allowed", "blocked")
    top = Path(path)
    if not top.is_absolute() or not top.is_dir():
        raise SyncError(f"{path} is not a folder on this machine", "folder")
    if root := find_v1_root(top):
        return read_v1(root, allow_lan=allow_lan, report=report)
    if root := find_v2_root(top):
        index = read_json(root / "index.json", root)
        return read_v2(index, _V2Reader(root=root), allow_lan=allow_lan, report=report)
    raise SyncError("the folder holds no store (neither an Apps/ folder nor an index.json)", "content")


def read_zip_url(store_id: int, url: str, seen: Validators, *, allow_lan: bool, report: Report) -> ParsedStore:
    """A v1 store published as a zip (a GitHub archive, for instance)."""
    folder = store_dir(store_id)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f"incoming-{uuid.uuid4().hex}"
    archive = folder / f"{work.name}.zip"

    def progress(size: int, total: int | None) -> None:
        if total:
            report(
                int(25 * size / total),
                deferred("Downloading (%(done)s of %(total)s KiB)", done=size // 1024, total=total // 1024),
            )

    try:
        download = fetch(
            url,
            allow_lan=allow_lan,
            limits=_download_limits(settings.APPSTORE_MAX_ARCHIVE),
            etag=seen.etag,
            last_modified=seen.last_modified,
            dest=archive,
            on_progress=progress,
        )
        if seen.sha256 and download.sha256 == seen.sha256:
            raise Unchanged
        report(25, deferred("Unpacking"))
        extract_zip(archive, work, ArchiveLimits(settings.APPSTORE_MAX_UNPACKED, settings.APPSTORE_MAX_ENTRIES))
        root = find_v1_root(work)
        if root is None:
            raise SyncError("the archive holds no store (no folder with an Apps/ folder inside)", "content")
        parsed = read_v1(root, allow_lan=allow_lan, report=report)
        parsed.validators = Validators(download.etag, download.last_modified, download.sha256)
        return parsed
    except NotModified:
        raise Unchanged from None
    except FetchError as exc:
        raise SyncError(str(exc), exc.code) from None
    except ArchiveError as exc:
        raise SyncError(str(exc), "archive") from None
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def read_v2_url(url: str, seen: Validators, *, allow_lan: bool, report: Report) -> ParsedStore:
    """A built v2 store served over HTTP: the URL of its index.json, store.json or folder."""
    index_url = (
        url
        if url.endswith("index.json")
        else urljoin(url if url.endswith("/") or url.endswith(".json") else url + "/", "index.json")
    )
    reader = _V2Reader(base_url=index_url, allow_lan=allow_lan)
    try:
        download = fetch(
            index_url, allow_lan=allow_lan, limits=reader.limits(), etag=seen.etag, last_modified=seen.last_modified
        )
        index = json.loads(download.body or b"")
    except NotModified:
        raise Unchanged from None
    except FetchError as exc:
        raise SyncError(f"index.json: {exc}", exc.code) from None
    except ValueError as exc:
        raise SyncError(f"index.json: {exc}", "content") from None
    if seen.sha256 and download.sha256 == seen.sha256:
        raise Unchanged
    parsed = read_v2(index, reader, allow_lan=allow_lan, report=report)
    parsed.validators = Validators(download.etag, download.last_modified, download.sha256)
    return parsed
