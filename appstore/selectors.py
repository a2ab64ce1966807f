"""Reads of the app store: stores and their state, catalogue search, categories, the app an install came from."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from .models import CatalogApp, Store
from .parsing import normalise_architectures
from .search import search

LIST_FIELDS = ("id", "store_id", "store_app_id", "title", "title_sort", "tagline", "category", "author",
               "developer", "author_type", "icon", "architectures", "version", "needs_consent", "featured",
               "recommended", "content_hash", "images")


def host_architecture() -> str:
    """This machine's CPU architecture in the engine's words (amd64, arm64, arm...)."""
    return (normalise_architectures([platform.machine()]) or ["amd64"])[0]


# ---------------------------------------------------------------------------- stores
def store_list() -> QuerySet[Store]:
    """Every store, the default first."""
    return Store.objects.all()


def store_state(store: Store) -> dict:
    """What a page row, the API and a live event show about a store (one shape for all three)."""
    return {
        "id": store.pk, "pk": store.pk, "name": store.name, "kind": store.kind,
        "kind_label": str(Store.Kind(store.kind).label), "source": store.source, "enabled": store.enabled,
        "is_default": store.is_default, "status": store.status, "status_label": str(Store.Status(store.status).label),
        "is_busy": store.is_busy, "progress": store.progress, "message": store.message, "error": store.error,
        "app_count": store.app_count, "problem_count": len(store.problems or []),
        "synced_at": store.synced_at.isoformat() if store.synced_at else None,
        "attempted_at": store.attempted_at.isoformat() if store.attempted_at else None,
    }


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


def catalog_search(query: CatalogQuery) -> QuerySet[CatalogApp]:
    """Full-text search over every locale plus filters, in title order (the in-memory index does the matching)."""
    ids, _counts = search(text=query.search, category=query.category, author_type=query.author_type,
                          arch=query.arch, store=query.store)
    return catalog_apps().filter(pk__in=ids).only(*LIST_FIELDS).order_by("title_sort", "pk")


def catalog_browse(query: CatalogQuery, *, page: int | str | None, size: int) -> tuple[Page, list[dict]]:
    """One page of cards and the category counts, from one pass over the index (what the catalogue page shows)."""
    ids, counts = search(text=query.search, category=query.category, author_type=query.author_type,
                         arch=query.arch, store=query.store)
    current = Paginator(ids, size).get_page(page)
    rows = catalog_apps().only(*LIST_FIELDS).in_bulk(list(current.object_list))
    current.object_list = [rows[pk] for pk in current.object_list if pk in rows]
    return current, _categories(counts)


def _categories(counts) -> list[dict]:
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "count": count} for name, count in rows if name]


def catalog_categories(query: CatalogQuery | None = None) -> list[dict]:
    """Categories with how many apps each holds (under the other filters), biggest first."""
    query = query or CatalogQuery()
    _ids, counts = search(text=query.search, author_type=query.author_type, arch=query.arch, store=query.store)
    return _categories(counts)


def catalog_featured(*, limit: int = 12) -> QuerySet[CatalogApp]:
    return catalog_apps().filter(featured=True).only(*LIST_FIELDS)[:limit]


def catalog_recommended(*, limit: int = 12) -> QuerySet[CatalogApp]:
    return catalog_apps().filter(recommended=True).only(*LIST_FIELDS)[:limit]


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


def installed_refs() -> tuple[set[str], set[str]]:
    """(catalogue ids, app names) of installed apps; empty while the apps model does not exist."""
    try:
        from apps.models import Installation
    except ImportError:
        return set(), set()
    rows = Installation.objects.exclude(status__in=Installation.ENDED).values_list("store_ref", "name")
    refs, names = set(), set()
    for ref, name in rows:
        refs.add(ref)
        names.add(name)
    return refs, names


def catalog_is_installed(app: CatalogApp, refs: tuple[set[str], set[str]] | None = None) -> bool:
    """The app (by catalogue id, or by its app id as the install name) is installed."""
    from .parsing import project_name

    store_refs, names = refs if refs is not None else installed_refs()
    return str(app.pk) in store_refs or project_name(app.store_app_id) in names
