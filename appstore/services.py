"""Writes of the app store: adding, switching, removing and syncing stores; the catalogue swap."""

from __future__ import annotations

import fcntl
import logging
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred, deferred_ngettext

from .fetch import FetchError, check_url
from .models import AppstoreSettings, CatalogApp, Store
from .parsing import pick
from .problems import is_transient
from .selectors import store_state
from .sync import (
    ParsedApp,
    ParsedStore,
    SyncError,
    Unchanged,
    Validators,
    read_folder,
    read_v2_url,
    read_zip_url,
    store_dir,
)
from .updates import installed_templates_check

log = logging.getLogger(__name__)

STORES_GROUP = "appstore.stores"
STORE_EVENT = "store.state"
STALE_SYNC = timedelta(minutes=30)  # a "syncing" row older than this belongs to a worker that died
BUSY = (Store.Status.QUEUED, Store.Status.SYNCING)
SYNC_RETRIES = 6  # automatic attempts after a network or server failure: 30 s, 1, 2, 4, 8, 16 minutes later
SYNC_BACKOFF = 30  # seconds before the first of them; each next one waits twice as long
SYNC_CHILD_TIMEOUT = 1800  # seconds a sync in a child process may take before it is killed (as the task's limit)


class StoreError(ValidationError):
    """A store request we refuse; the message says why."""


# ---------------------------------------------------------------------------- settings
def appstore_settings_update(*, user, allow_lan_stores: bool, request=None) -> AppstoreSettings:
    """Allow or forbid store URLs on this machine and the local network."""
    obj = AppstoreSettings.load()
    obj.allow_lan_stores = allow_lan_stores
    obj.save(update_fields=["allow_lan_stores"])
    audit_record(
        actor=user, action="appstore.settings", request=request, details={"allow_lan_stores": allow_lan_stores}
    )
    return obj


# ---------------------------------------------------------------------------- stores
def _kind_for_url(url: str) -> str:
    path = urlsplit(url).path.lower()
    return Store.Kind.V2 if path.endswith(".json") or path.endswith("/dist/") else Store.Kind.ZIP


def _default_name(url: str, path: str) -> str:
    if path:
        return Path(path).name or path
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return f"{parts.hostname} · {'/'.join(segments[:2])}" if segments else str(parts.hostname)


def _validated_source(url: str, path: str) -> tuple[str, str, str]:
    """(kind, url, path) after checks; StoreError with a clear reason otherwise."""
    url, path = (url or "").strip(), (path or "").strip()
    if bool(url) == bool(path):
        raise StoreError(_("Give either a URL or a folder."), code="source")
    if url:
        try:
            check_url(url)
        except FetchError as exc:
            raise StoreError(str(exc), code="url") from None
        return _kind_for_url(url), url, ""
    if not AppstoreSettings.load().allow_lan_stores:
        # A folder is a store on this machine: the switch that allows those covers it (the sync checks again).
        raise StoreError(
            _(
                "A folder is a store on this machine: turn on “Allow stores on this machine and the local network” first."
            ),
            code="lan",
        )
    folder = Path(path)
    if not folder.is_absolute():
        raise StoreError(_("The folder must be an absolute path."), code="path")
    if not folder.is_dir():
        raise StoreError(_("%(path)s is not a folder on this machine.") % {"path": path}, code="path")
    return Store.Kind.FOLDER, "", str(folder.resolve())


def store_create(*, user, url: str = "", path: str = "", name: str = "", request=None, sync: bool = True) -> Store:
    """Add a store and queue its first sync."""
    kind, url, path = _validated_source(url, path)
    if Store.objects.filter(url=url, path=path).exists():
        raise StoreError(_("This store is already configured."), code="duplicate")
    store = Store.objects.create(
        name=(name or _default_name(url, path))[:200],
        kind=kind,
        url=url,
        path=path,
        created_by=user if getattr(user, "pk", None) else None,
    )
    audit_record(actor=user, action="appstore.store.add", request=request, target=store.source)
    if sync:
        store_sync(store=store)
    return store


def store_set_enabled(*, user, store: Store, enabled: bool, request=None) -> Store:
    """Switch a store on or off; a disabled store's apps leave the catalogue (they come back on the next sync)."""
    was_enabled, store.enabled = store.enabled, enabled
    store.save(update_fields=["enabled"])
    audit_record(
        actor=user,
        action="appstore.store.enable" if enabled else "appstore.store.disable",
        request=request,
        target=store.source,
    )
    if enabled and not was_enabled:
        store_sync(store=store)  # its apps come back now, not at the next hourly sync
    _publish(store)
    return store


def store_delete(*, user, store: Store, request=None) -> None:
    """Remove a store, its catalogue and its folder."""
    source, pk = store.source, store.pk
    store.delete()
    shutil.rmtree(store_dir(pk), ignore_errors=True)
    audit_record(actor=user, action="appstore.store.remove", request=request, target=source)
    publish(STORES_GROUP, "store.removed", {"id": pk})


def store_sync(*, store: Store) -> Store:
    """Queue a sync of one store (once the row is committed); a store already syncing is left alone."""
    from .tasks import sync_store

    if store.is_busy and store.attempted_at and timezone.now() - store.attempted_at < STALE_SYNC:
        return store
    store.status, store.progress, store.message = Store.Status.QUEUED, 0, deferred("Waiting for a worker")
    store.attempted_at = timezone.now()
    store.save(update_fields=["status", "progress", "message", "attempted_at"])

    def enqueue() -> None:
        try:
            sync_store.delay(store.pk)
        except Exception as exc:  # broker down: say so on the store instead of leaving it "queued" forever
            Store.objects.filter(pk=store.pk).update(
                status=Store.Status.ERROR,
                message="",
                error=deferred("Could not queue the sync: %(error)s", error=str(exc)),
            )
        _publish(Store.objects.filter(pk=store.pk).first())

    transaction.on_commit(enqueue)
    return store


def store_sync_all() -> int:
    """Queue a sync of every enabled store (the periodic task); returns how many were queued."""
    stores = list(Store.objects.filter(enabled=True))
    for store in stores:
        store_sync(store=store)
    return len(stores)


def store_sync_due() -> int:
    """At start: queue every enabled store never synced, failed, or not synced for a sync period; returns how many."""
    since = timezone.now() - timedelta(minutes=max(settings.APPSTORE_SYNC_MINUTES, 1))
    due = Store.objects.filter(enabled=True).filter(
        Q(synced_at__isnull=True) | Q(synced_at__lt=since) | Q(status=Store.Status.ERROR)
    )
    stores = list(due)
    for store in stores:
        store_sync(store=store)
    return len(stores)


def store_sync_failed(*, user, request=None) -> int:
    """The App Store page's Retry: queue every enabled store whose last sync failed or never ran; how many."""
    stores = list(Store.objects.filter(enabled=True).exclude(status__in=(Store.Status.OK, *BUSY)))
    for store in stores:
        store_sync(store=store)
    audit_record(actor=user, action="appstore.store.retry", request=request, details={"stores": len(stores)})
    return len(stores)


def store_sync_retry_delay(*, store: Store, attempt: int) -> int | None:
    """Seconds until the next automatic attempt after a network or server failure (None: no retry); says so."""
    if not is_transient(store) or attempt >= SYNC_RETRIES:
        return None
    delay = SYNC_BACKOFF * 2**attempt
    store.message = deferred("Trying again in %(minutes)s…", minutes=_minutes(delay))
    Store.objects.filter(pk=store.pk, status=Store.Status.ERROR).update(message=store.message)
    _publish(store)
    return delay


def _minutes(seconds: int) -> str:
    minutes = round(seconds / 60)
    return deferred_ngettext("%(n)s minute", "%(n)s minutes", minutes, n=minutes) if minutes else deferred("a moment")


# ---------------------------------------------------------------------------- the sync itself
def _claim(store_id: int) -> Store | None:
    """Mark the store as syncing unless another live worker already does."""
    now = timezone.now()
    fresh_sync = Store.objects.filter(pk=store_id, status=Store.Status.SYNCING, attempted_at__gt=now - STALE_SYNC)
    if fresh_sync.exists():
        return None
    updated = Store.objects.filter(pk=store_id).update(
        status=Store.Status.SYNCING, progress=0, attempted_at=now, message=deferred("Starting")
    )
    return Store.objects.get(pk=store_id) if updated else None


def _reporter(store: Store):
    last = {"at": 0.0, "percent": -1}

    def report(percent: int, message: str) -> None:
        # The page needs a few updates a second at most; the database even fewer.
        if percent == last["percent"] or time.monotonic() - last["at"] < 0.3:
            return
        last.update(at=time.monotonic(), percent=percent)
        Store.objects.filter(pk=store.pk).update(progress=percent, message=message[:300])
        store.progress, store.message = percent, message[:300]
        _publish(store)

    return report


def _read(store: Store, report) -> ParsedStore:
    allow_lan = AppstoreSettings.load().allow_lan_stores
    seen = Validators(store.etag, store.last_modified, store.content_sha256) if store.app_count else Validators()
    if store.kind == Store.Kind.FOLDER:
        return read_folder(store.path, allow_lan=allow_lan, report=report)
    if store.kind == Store.Kind.V2:
        return read_v2_url(store.url, seen, allow_lan=allow_lan, report=report)
    return read_zip_url(store.pk, store.url, seen, allow_lan=allow_lan, report=report)


def store_sync_run(*, store_id: int) -> Store | None:
    """Fetch, read and swap one store's catalogue; on any failure the last good catalogue stays."""
    store = _claim(store_id)
    if store is None:
        return None
    report = _reporter(store)
    try:
        parsed = _read(store, report)
        report(95, deferred("Saving the catalogue"))
        catalog_swap(store=store, parsed=parsed)
        store.status, store.error, store.message = Store.Status.OK, "", ""
    except Unchanged:
        store.status, store.error, store.message = Store.Status.OK, "", deferred("No change since the last sync")
    except SyncError as exc:
        store.status, store.error, store.message = Store.Status.ERROR, str(exc), ""
        store.error_code = exc.code
    except Exception as exc:  # a bug must not leave the store "syncing"; the old catalogue stays
        log.exception("sync of store %s failed", store.pk)
        store.status, store.error, store.message = (
            Store.Status.ERROR,
            deferred("Unexpected error: %(error)s", error=str(exc)),
            "",
        )
        store.error_code = "other"
    store.progress = 100
    if store.status == Store.Status.OK:
        store.synced_at, store.error_code = timezone.now(), ""
    Store.objects.filter(pk=store.pk).update(
        status=store.status,
        error=store.error,
        error_code=store.error_code,
        message=store.message,
        progress=100,
        synced_at=store.synced_at,
    )
    _publish(store)
    return store


def store_sync_in_child(*, store_id: int) -> Store | None:
    """Sync one store in a short-lived `manage.py appstore_sync` process; the store as that left it.

    The worker lives for months: a sync of 1,000 apps imports Pillow and the store readers and leaves the
    allocator at its high-water mark for good (tens of MB); a child process gives all of it back when it exits.
    """
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "appstore_sync", str(store_id)]
    try:
        with _one_sync_child():
            code = subprocess.run(command, cwd=settings.BASE_DIR, timeout=SYNC_CHILD_TIMEOUT, check=False).returncode
    except subprocess.TimeoutExpired:
        _sync_child_failed(store_id, deferred("The sync took longer than %(minutes)s minutes.", minutes=30))
    else:
        if code != 0:
            _sync_child_failed(store_id, deferred("The sync process failed (exit code %(code)s).", code=code))
    return Store.objects.filter(pk=store_id).first()


@contextmanager
def _one_sync_child():
    """One sync child at a time on the box: each is a whole Django process (~120 MB), and a Pi has 1 GB."""
    with (Path(settings.DATA_DIR) / "appstore-sync.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _sync_child_failed(store_id: int, error: str) -> None:
    """A child that died (killed, out of memory, a broken start) left the store busy: record why instead."""
    log.error("sync of store %s in a child process failed: %s", store_id, error)
    busy = Store.objects.filter(pk=store_id, status__in=BUSY)
    if busy.update(status=Store.Status.ERROR, error=error, error_code="other", message="", progress=100):
        _publish(Store.objects.filter(pk=store_id).first())


def _search_text(parsed: ParsedApp) -> str:
    t = parsed.template
    parts = [
        t.store_app_id,
        t.package_id,
        t.author,
        t.developer,
        t.category,
        *t.title.values(),
        *t.tagline.values(),
        *t.description.values(),
    ]
    return "\n".join(p for p in parts if p).casefold()


def _row_fields(parsed: ParsedApp, parsed_store: ParsedStore) -> dict:
    t, info = parsed.template, parsed_store.info
    ids = {t.store_app_id, t.folder.lower(), t.package_id}
    return {
        "package_id": t.package_id[:200],
        "folder": t.folder[:300],
        "title": t.title,
        "title_sort": pick(t.title)[:200],
        "tagline": t.tagline,
        "description": t.description,
        "release_notes": t.release_notes,
        "tips": t.tips,
        "category": t.category[:100],
        "author": t.author[:200],
        "developer": t.developer[:200],
        "author_type": t.author_type,
        "icon": parsed.icon,
        "thumbnail": parsed.thumbnail,
        "screenshots": parsed.screenshots,
        "architectures": "," + ",".join(t.architectures) + "," if t.architectures else "",
        "version": t.version[:100],
        "update_at": t.update_at[:50],
        "links": t.links,
        "main": t.main[:200],
        "port_map": t.port_map[:20],
        "index": t.index[:300],
        "scheme": t.scheme[:10],
        "services": t.services,
        "images": t.images,
        "compose": t.compose,
        "content_hash": t.content_hash,
        "risk": parsed.risk,
        "needs_consent": parsed.needs_consent,
        "featured": bool(ids & info.featured),
        "recommended": bool(ids & info.recommended),
        "search_text": _search_text(parsed),
    }


ROW_FIELDS = [f.name for f in CatalogApp._meta.concrete_fields if f.name not in ("id", "store", "store_app_id")]


def catalog_swap(*, store: Store, parsed: ParsedStore) -> None:
    """Replace a store's catalogue in one transaction; rows keep their id when the app stays (installs refer to it)."""
    with transaction.atomic():
        existing = {a.store_app_id: a for a in CatalogApp.objects.filter(store=store)}
        changed, created = [], []
        for app in parsed.apps:
            fields = _row_fields(app, parsed)
            row = existing.get(app.template.store_app_id)
            if row is None:
                created.append(CatalogApp(store=store, store_app_id=app.template.store_app_id[:200], **fields))
                continue
            for key, value in fields.items():
                setattr(row, key, value)
            changed.append(row)
        keep = {a.template.store_app_id for a in parsed.apps}
        CatalogApp.objects.filter(store=store).exclude(store_app_id__in=keep).delete()
        CatalogApp.objects.bulk_update(changed, ROW_FIELDS, batch_size=100)
        CatalogApp.objects.bulk_create(created, batch_size=200)
        v = parsed.validators
        Store.objects.filter(pk=store.pk).update(
            app_count=len(parsed.apps),
            problems=parsed.problems,
            etag=v.etag,
            last_modified=v.last_modified,
            content_sha256=v.sha256,
        )
        installed_templates_check(store=store)  # "update available" changes with the catalogue it compares to
    store.app_count, store.problems = len(parsed.apps), parsed.problems


def _publish(store: Store | None) -> None:
    if store is not None:
        publish(STORES_GROUP, STORE_EVENT, store_state(store))
