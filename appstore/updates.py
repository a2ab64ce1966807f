"""Writes of the "update available" mark: which store template an app was installed from, and whether the
store now offers a different one (another image tag, or any change to the template's content hash).

The update itself is the installed-apps feature's (apps/services/update.py); after it, a sync sees the app
running the store's current images and records that template as the installed one.
"""

from __future__ import annotations

import hashlib
import logging

from django.utils import timezone

from runtime.compose import ComposeError, load_project

from .models import CatalogApp, InstalledTemplate, Store

log = logging.getLogger(__name__)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def installed_template_record(*, installation, app: CatalogApp) -> InstalledTemplate:
    """Remember the template an app was installed (or updated) from; it has no update until the store changes."""
    record, _created = InstalledTemplate.objects.update_or_create(
        installation=installation,
        defaults={
            "store_id": app.store_id,
            "store_app_id": app.store_app_id,
            "content_hash": app.content_hash,
            "images": list(app.images),
            "version": app.version,
            "title": dict(app.title or {}),
            "compose_hash": _sha(installation.compose),
            "update_available": False,
            "available_version": "",
            "available_images": [],
            "checked_at": timezone.now(),
        },
    )
    return record


def installed_template_copy(*, source, installation) -> InstalledTemplate | None:
    """A copy of an installed store app (restored from a backup) came from the same template as the app: a sync
    marks both alike."""
    record = InstalledTemplate.objects.filter(installation=source).first()
    if record is None:
        return None
    record.installation, record.compose_hash = installation, _sha(installation.compose)
    record.save(force_insert=True)
    return record


def installed_templates_check(*, store: Store | None = None) -> int:
    """Compare installed templates with their store's current ones and set or clear the mark (a sync calls it).

    Returns how many apps (of that store) have an update available.
    """
    records = InstalledTemplate.objects.select_related("installation").exclude(store=None)
    if store is not None:
        records = records.filter(store=store)
    current = {
        (a.store_id, a.store_app_id): a
        for a in CatalogApp.objects.filter(
            store_id__in={r.store_id for r in records}, store_app_id__in={r.store_app_id for r in records}
        )
    }
    found = 0
    for record in records:
        app = current.get((record.store_id, record.store_app_id))
        if app is None:  # the store dropped the app: nothing newer to offer
            continue
        if _changed(record, app) and _updated_to(record, app):
            installed_template_record(installation=record.installation, app=app)
            continue
        found += _mark(record, app)
    return found


def _changed(record: InstalledTemplate, app: CatalogApp) -> bool:
    return app.content_hash != record.content_hash or sorted(app.images) != sorted(record.images)


def _updated_to(record: InstalledTemplate, app: CatalogApp) -> bool:
    """The app was updated since we recorded it (its compose changed) and now runs the store's current images."""
    inst = record.installation
    if _sha(inst.compose) == record.compose_hash:
        return False
    try:
        images = load_project(inst.compose, variables=inst.variables, project_name=inst.name).images
    except ComposeError as exc:
        log.warning("cannot read the compose of %s: %s", inst.name, exc)
        return False
    return sorted(images) == sorted(app.images)


def _mark(record: InstalledTemplate, app: CatalogApp) -> bool:
    available = _changed(record, app)
    record.update_available = available
    record.available_version = app.version[:100] if available else ""
    record.available_images = list(app.images) if available else []
    record.checked_at = timezone.now()
    record.save(update_fields=["update_available", "available_version", "available_images", "checked_at"])
    return available
