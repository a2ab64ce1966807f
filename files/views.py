"""File manager pages (HTMX). Actions go through the JSON API from static/js/files.js: one code path."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from accounts.permissions import admin_required, member_required

from . import selectors, services
from .downloads import INLINE_TYPES, content_type
from .paths import PathError, from_os_error, resolve

VIEW_MODES = ("list", "grid")
SORT_COLUMNS = (("name", _("Name")), ("size", _("Size")), ("modified", _("Modified")))


def _listing_context(request) -> dict:
    q = request.GET
    path = q.get("path", "")
    sort = q.get("sort", "name") if q.get("sort") in selectors.SORT_KEYS else "name"
    reverse, hidden = q.get("reverse") == "1", q.get("hidden") == "1"
    mode = q.get("view") if q.get("view") in VIEW_MODES else "list"
    try:
        page = max(1, int(q.get("page", 1)))
    except ValueError:
        page = 1
    search = (q.get("q") or "").strip()
    context = {
        "path": path,
        "sort": sort,
        "reverse": reverse,
        "hidden": hidden,
        "mode": mode,
        "error": None,
        "search": search,
        "results": None,
        "search_limit": selectors.SEARCH_LIMIT,
        "sort_columns": SORT_COLUMNS,
    }
    try:
        if search:  # a name search under this folder, shown as a listing of its own
            context["results"] = selectors.folder_search(user=request.user, path=path, query=search, hidden=hidden)
            folder = resolve(request.user, path)
            context["breadcrumb"], context["writable"] = selectors.crumbs_of(request.user, folder), folder.base.writable
            context["listing"] = None
        else:
            context["listing"] = selectors.folder_list(
                user=request.user, path=path, sort=sort, reverse=reverse, hidden=hidden, page=page, page_size=200
            )
    except PathError as exc:
        context["error"], context["listing"] = exc.message, None
    except OSError as exc:  # the folder changed under the listing (a link now stands where it was)
        context["error"], context["listing"] = from_os_error(exc).message, None
    context["places"] = _places(request.user, path)
    return context


def _places(user, path: str) -> list[dict]:
    """The places beside the listing, the one the path lies in marked."""
    first = path.split("/", 1)[0]
    return [{**place, "current": bool(place["path"]) and place["path"] == first} for place in selectors.places(user)]


@member_required
def index(request):
    """Browse a folder; htmx requests get only the listing fragment."""
    context = _listing_context(request)
    status = 200 if context["error"] is None else 404
    # htmx restoring a page it has no copy of (Back after a pushed URL) needs the whole page, not the fragment.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "files/partials/_listing.html", context, status=status)
    context["tasks"] = selectors.tasks_of(user=request.user, limit=5)
    context["chunk_size"] = min(16 * 1024 * 1024, settings.FILES_UPLOAD_CHUNK_MAX)
    return render(request, "files/index.html", context, status=status)


@member_required
def tasks_fragment(request):
    """Recent tasks (polled while the websocket is down)."""
    return render(request, "files/partials/_tasks.html", {"tasks": selectors.tasks_of(user=request.user, limit=5)})


def preview_kind(name: str) -> str:
    ctype = content_type(name).split(";")[0]
    if services.is_image(name) and INLINE_TYPES.match(ctype):
        return "image"
    for kind in ("video", "audio"):
        if ctype.startswith(kind + "/"):
            return kind
    if ctype == "application/pdf":
        return "pdf"
    return "text"


@member_required
@xframe_options_sameorigin
def preview(request):
    """View one file: image, video, audio, PDF, or the text editor."""
    try:
        target = resolve(request.user, request.GET.get("path", ""))
        info = selectors.entry_info(user=request.user, path=target.view_path)
    except (PathError, OSError) as exc:
        raise Http404(str(exc)) from None
    if info.is_dir:
        raise Http404
    parent = target.view_path.rpartition("/")[0]
    return render(
        request,
        "files/preview.html",
        {
            "entry": info,
            "kind": preview_kind(target.name),
            "parent": parent,
            "breadcrumb": selectors.crumbs_of(request.user, target),
            "writable": target.base.writable,
            "is_archive": services.is_archive(target.name),
        },
    )


@member_required
def trash(request):
    return render(request, "files/trash.html", {"items": selectors.trash_list(user=request.user)})


@member_required
def shares(request):
    return render(request, "files/shares.html", {"shares": selectors.sharelinks_of(user=request.user)})


@admin_required
def grants(request):
    from accounts.models import User

    return render(
        request,
        "files/grants.html",
        {
            "grants": selectors.grants_all(),
            "members": User.objects.filter(role=User.Role.MEMBER),
            "disks": [place for place in selectors.places(request.user) if place["disk"]],
        },
    )
