"""Reads of the app store: stores and their state, catalogue search, categories, the app an install came from."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from .models import CatalogApp, InstalledTemplate, Store
from .parsing import normalise_architectures, pick
from .problems import store_problem
from .search import search

LIST_FIELDS = (
    "id",
    "store_id",
    "store_app_id",
    "title",
    "title_sort",
    "tagline",
    "category",
    "author",
    "developer",
    "author_type",
    "icon",
    "architectures",
    "version",
    "needs_consent",
    "featured",
    "recommended",
    "content_hash",
    "images",
)


def host_architecture() -> str:
    """This machine's CPU architecture in the engine's words (amd64, arm64, arm...)."""
    return (normalise_architectures([platform.machine()]) or ["amd64"])[0]


# ---------------------------------------------------------------------------- stores
def store_list() -> QuerySet[Store]:
    """Every store, the default first."""
    return Store.objects.all()


def store_states() -> list[dict]:
    """Every store's state in list order: the stores page, the API and the stores socket on connect."""
    return [store_state(s) for s in store_list()]


def store_state(store: Store) -> dict:
    """What a page row, the API and a live event show about a store (one shape for all three)."""
    return {
        "id": store.pk,
        "pk": store.pk,
        "name": store.name,
        "kind": store.kind,
        "kind_label": str(Store.Kind(store.kind).label),
        "source": store.source,
        "enabled": store.enabled,
        "is_default": store.is_default,
        "status": store.status,
        "status_label": str(Store.Status(store.status).label),
        "is_busy": store.is_busy,
        "progress": store.progress,
        "message": store.message,
        "error": store.error,
        "error_code": store.error_code,
        "problem": store_problem(store),  # the error in plain words ("No network: ...")
        "app_count": store.app_count,
        "problem_count": len(store.problems or []),
        "synced_at": store.synced_at.isoformat() if store.synced_at else None,
        "attempted_at": store.attempted_at.isoformat() if store.attempted_at else None,
    }


@dataclass(frozen=True)
class CatalogStatus:
    """Why the catalogue is as it is: the enabled stores still loading and those whose last sync failed."""

    empty: bool  # no app of any enabled store
    has_stores: bool  # at least one store is enabled
    loading: list[Store]
    failed: list[dict]  # {"store", "problem" (plain words), "detail" (the technical error)}

    @property
    def retryable(self) -> bool:
        """Nothing is loading and something failed: the page offers Retry."""
        return bool(self.failed) and not self.loading


def catalog_status() -> CatalogStatus:
    """The enabled stores' sync state, for a page that must say why it shows no app."""
    stores = list(Store.objects.filter(enabled=True))
    failed = [
        {"store": s, "problem": store_problem(s), "detail": s.error} for s in stores if s.status == Store.Status.ERROR
    ]
    return CatalogStatus(
        empty=not catalog_apps().exists(),
        has_stores=bool(stores),
        loading=[s for s in stores if s.is_busy or s.status == Store.Status.NEW],
        failed=failed,
    )


# ---------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class CatalogQuery:
    """What a person filters the catalogue by."""

    search: str = ""
    category: str = ""
    author_type: str = ""
    arch: str = ""
    store: int | None = None


def catalog_apps() -> QuerySet[CatalogApp]:
    """Apps of enabled stores."""
    return CatalogApp.objects.filter(store__enabled=True)


def catalog_stores() -> list[tuple[int, str]]:
    """(id, name) of the enabled stores that offer apps: what the catalogue can be narrowed to."""
    return list(Store.objects.filter(enabled=True, apps__isnull=False).distinct().values_list("pk", "name"))


def catalog_search(query: CatalogQuery) -> QuerySet[CatalogApp]:
    """Full-text search over every locale plus filters, in title order (the in-memory index does the matching)."""
    ids, _counts = search(
        text=query.search, category=query.category, author_type=query.author_type, arch=query.arch, store=query.store
    )
    return catalog_apps().filter(pk__in=ids).only(*LIST_FIELDS).order_by("title_sort", "pk")


def catalog_browse(query: CatalogQuery, *, page: int | str | None, size: int) -> tuple[Page, list[dict]]:
    """One page of cards and the category counts, from one pass over the index (what the catalogue page shows)."""
    ids, counts = search(
        text=query.search, category=query.category, author_type=query.author_type, arch=query.arch, store=query.store
    )
    current = Paginator(ids, size).get_page(page)
    rows = catalog_apps().only(*LIST_FIELDS).in_bulk(list(current.object_list))
    current.object_list = catalog_mark(rows[pk] for pk in current.object_list if pk in rows)
    return current, _categories(counts)


def _categories(counts) -> list[dict]:
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "count": count} for name, count in rows if name]


def catalog_categories(query: CatalogQuery | None = None) -> list[dict]:
    """Categories with how many apps each holds (under the other filters), biggest first."""
    query = query or CatalogQuery()
    _ids, counts = search(text=query.search, author_type=query.author_type, arch=query.arch, store=query.store)
    return _categories(counts)


def catalog_featured(*, limit: int = 12, marks: InstallMarks | None = None) -> list[CatalogApp]:
    return catalog_mark(catalog_apps().filter(featured=True).only(*LIST_FIELDS)[:limit], marks)


def catalog_recommended(*, limit: int = 12, marks: InstallMarks | None = None) -> list[CatalogApp]:
    return catalog_mark(catalog_apps().filter(recommended=True).only(*LIST_FIELDS)[:limit], marks)


def catalog_get(*, pk: int) -> CatalogApp:
    """One app of an enabled store (CatalogApp.DoesNotExist otherwise)."""
    return catalog_apps().select_related("store").get(pk=pk)


def catalog_app_for(store_app_id: str, *, store_id: int | None = None) -> CatalogApp | None:
    """The current template of an app id (default store first): what the apps issue compares an install against.

    Compare `content_hash` (any change to the template) or `images` (the image tags) with what was installed.
    """
    qs = catalog_apps().filter(Q(store_app_id=store_app_id.lower()) | Q(package_id=store_app_id.lower()))
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return qs.select_related("store").order_by("-store__is_default", "store_id").first()


# ---------------------------------------------------------------------------- installed apps and updates
@dataclass(frozen=True)
class InstallMarks:
    """What the catalogue badges: apps installed (by catalogue row or by recorded template), and newer templates."""

    refs: frozenset[str] = frozenset()  # Installation.store_ref: the catalogue row id installed from
    installed: frozenset[tuple[int, str]] = frozenset()  # (store id, app id) of recorded templates
    updates: frozenset[tuple[int, str]] = frozenset()


def install_marks() -> InstallMarks:
    """One read of every live installation's origin (failed and cancelled installs do not count)."""
    from apps.models import Installation

    live = Installation.objects.exclude(status__in=Installation.ENDED)
    refs = frozenset(live.exclude(store_ref="").values_list("store_ref", flat=True))
    rows = InstalledTemplate.objects.filter(installation__in=live).exclude(store=None)
    rows = list(rows.values_list("store_id", "store_app_id", "update_available"))
    return InstallMarks(
        refs=refs, installed=frozenset((s, a) for s, a, _u in rows), updates=frozenset((s, a) for s, a, u in rows if u)
    )


def catalog_mark(apps, marks: InstallMarks | None = None) -> list[CatalogApp]:
    """Set `installed` and `update_available` on each catalogue app (what the cards and the app page badge)."""
    marks = marks if marks is not None else install_marks()
    apps = list(apps)
    for app in apps:
        key = (app.store_id, app.store_app_id)
        app.installed = key in marks.installed or str(app.pk) in marks.refs
        app.update_available = key in marks.updates
    return apps


def installed_title(installation) -> str:
    """An installed app's title in the reader's language: the store's, as recorded at install (one small query
    unless the caller selected `store_template`), else the one the installation keeps, else its name."""
    template = None
    if installation.source == "store":
        template = getattr(installation, "store_template", None)  # None when the app has no recorded template
    own = pick(template.title, get_language() or "en") if template is not None else ""
    return own or installation.title or installation.name


def update_available_for(installation) -> bool:
    """The store offers a different template (image tag or content) than the one this app was installed from."""
    return InstalledTemplate.objects.filter(installation=installation, update_available=True).exists()


def updates_available() -> QuerySet[InstalledTemplate]:
    """Installed apps whose store template changed, with `available_version` (for the apps page's badges)."""
    return (
        InstalledTemplate.objects.filter(update_available=True)
        .select_related("installation")
        .order_by("installation__name")
    )
