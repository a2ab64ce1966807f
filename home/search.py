"""The home page's one search: installed apps, the catalogue, files by name and settings pages, grouped.

Each group asks the selector that already decides what the user may see: apps through app_tiles (grants),
the catalogue through catalog_search (enabled stores), files through the file manager's own user_bases and
resolve (home and granted folders, links never followed), settings pages by role.
"""

import contextlib
import stat
import time
from dataclasses import asdict, dataclass

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from apps.selectors import app_tiles
from appstore.parsing.locale import pick
from appstore.selectors import CatalogQuery, catalog_search
from files import fs
from files.paths import RESERVED_PREFIX, PathError, resolve, user_bases

QUERY_MAX = 100  # characters; a longer query is cut, not refused
GROUP_LIMIT = 8  # results per group
FILES_SECONDS = 1.0  # a name search walks folders: it stops after this long, saying so
FILES_VISITED_MAX = 50_000  # entries looked at, whatever the clock says

# (url name, title, words it is also found by, admins only)
SETTINGS_PAGES = (
    ("settings", gettext_lazy("Account settings"), "password profile language theme", False),
    ("settings-mfa", gettext_lazy("Two-factor authentication"), "mfa otp totp security", False),
    ("settings-tokens", gettext_lazy("API tokens"), "api token", False),
    ("settings-sessions", gettext_lazy("Sessions"), "devices logins", False),
    ("files-trash", gettext_lazy("Trash"), "deleted files", False),
    ("files-shares", gettext_lazy("Share links"), "share links files", False),
    ("system-status", gettext_lazy("System status"), "health engine redis worker", False),
    ("settings-users", gettext_lazy("Users"), "accounts members admins", True),
    ("settings-security", gettext_lazy("Security"), "lockout password policy", True),
    ("settings-audit", gettext_lazy("Audit log"), "history events", True),
    ("appstore-stores", gettext_lazy("App stores"), "catalogue sources", True),
    ("apps-containers", gettext_lazy("Other containers"), "docker podman foreign", True),
    ("files-grants", gettext_lazy("Folder access"), "grants permissions folders", True),
)


@dataclass(frozen=True)
class Hit:
    """One result: what it is called, where it leads, one line of detail, and its icon (may be empty)."""

    title: str
    url: str
    detail: str = ""
    icon: str = ""


def home_search(*, user, query: str) -> dict:
    """Every group's results for a query: {"query", "groups": [{"key", "label", "results", "truncated"}]}."""
    query = " ".join((query or "").split())[:QUERY_MAX]
    if not query:
        return {"query": "", "groups": []}
    files, truncated = file_hits(user=user, query=query)
    groups = [
        ("apps", _("Installed apps"), app_hits(user=user, query=query), False),
        ("catalog", _("App Store"), catalog_hits(query=query), False),
        ("files", _("Files"), files, truncated),
        ("settings", _("Settings"), settings_hits(user=user, query=query), False),
    ]
    return {
        "query": query,
        "groups": [
            {"key": key, "label": label, "results": [asdict(h) for h in hits], "truncated": cut}
            for key, label, hits, cut in groups
            if hits or cut  # a file search cut short says so even when it found nothing yet
        ],
    }


def app_hits(*, user, query: str) -> list[Hit]:
    """Installed apps this user may see (admins: all; members: granted ones), hidden tiles included."""
    needle = query.casefold()
    return [
        Hit(tile["title"], reverse("app-open", args=[tile["id"]]), str(tile["status_label"]), tile["icon"])
        for tile in app_tiles(user=user, show_hidden=True)
        if needle in tile["title"].casefold() or needle in tile["name"].casefold()
    ][:GROUP_LIMIT]


def catalog_hits(*, query: str) -> list[Hit]:
    """Apps of the enabled stores, in the user's language (every locale is searched)."""
    language = get_language() or "en"
    return [
        Hit(pick(app.title, language), reverse("appstore-app", args=[app.pk]), pick(app.tagline, language), _icon(app))
        for app in catalog_search(CatalogQuery(search=query))[:GROUP_LIMIT]
    ]


def _icon(app) -> str:
    return reverse("appstore-asset", args=[app.icon]) if app.icon else ""


def settings_hits(*, user, query: str) -> list[Hit]:
    """Settings pages whose title or keywords hold the query; admin pages only for admins."""
    needle = query.casefold()
    return [
        Hit(str(title), reverse(name))
        for name, title, words, admin_only in SETTINGS_PAGES
        if (user.is_admin or not admin_only) and (needle in str(title).casefold() or needle in words)
    ][:GROUP_LIMIT]


def file_hits(*, user, query: str) -> tuple[list[Hit], bool]:
    """Files and folders whose name holds the query, in the folders this user may read; (hits, stopped early)."""
    deadline = time.monotonic() + FILES_SECONDS
    budget = [FILES_VISITED_MAX]
    hits: list[Hit] = []
    for base in user_bases(user):
        try:
            complete = _walk(user, base, query.casefold(), hits, deadline, budget)
        except (PathError, OSError):
            continue  # a granted folder that is gone or refused is left out, as the file manager does
        if not complete:
            return hits, True
    return hits, False


def _walk(user, base: str, needle: str, hits: list[Hit], deadline: float, budget: list[int]) -> bool:
    """Add the matches below one of the user's bases; False when the count, the clock or the budget ran out."""
    folder = resolve(user, base)
    with folder.fd() as fd, contextlib.closing(fs.tree(fd, skip=_skipped)) as entries:
        for parts, st, _folder in entries:
            budget[0] -= 1
            if budget[0] <= 0 or time.monotonic() > deadline:
                return False
            if needle in parts[-1].casefold():
                hits.append(_file_hit(folder.view_path, parts, st))
                if len(hits) >= GROUP_LIMIT:
                    return False
    return True


def _skipped(name: str) -> bool:
    # Hidden files and our own reserved entries (trash, upload parts) are not offered, as in the file manager.
    return name.startswith((".", RESERVED_PREFIX))


def _file_hit(base_view: str, parts: tuple[str, ...], st) -> Hit:
    """A file leads to its folder in the file manager (searching its name there); a folder to itself."""
    is_dir = stat.S_ISDIR(st.st_mode)
    parent = "/".join(p for p in (base_view, *parts[:-1]) if p)
    where = "/".join(p for p in (parent, parts[-1]) if p) if is_dir else parent
    params = {"path": where} if is_dir else {"path": parent, "q": parts[-1]}
    detail = _("Folder in /%(path)s") % {"path": parent} if is_dir else _("File in /%(path)s") % {"path": parent}
    return Hit(parts[-1], f"{reverse('files')}?{urlencode(params)}", detail)
