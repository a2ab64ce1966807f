"""Public share links: anyone with the link reaches exactly the shared file or folder, nothing beside it."""

import stat

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import fs, selectors, services
from .downloads import file_response, zip_response
from .models import ShareLink
from .paths import PathError

SESSION_KEY = "files_shares"


def _share(request, token: str) -> ShareLink:
    share = get_object_or_404(ShareLink.objects.select_related("user"), token=token)
    if not share.is_active:
        raise Http404
    return share


def _unlocked(request, share: ShareLink) -> bool:
    return not share.password or share.token in request.session.get(SESSION_KEY, [])


@require_http_methods(["GET", "POST"])
def share_page(request, token: str):
    """The landing page: password form, file card, folder listing or upload box."""
    share = _share(request, token)
    error = None
    if request.method == "POST":
        try:
            ok = services.sharelink_unlock(share=share, password=request.POST.get("password", ""))
        except PathError as exc:
            ok, error = False, exc.message
        if ok:
            request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), share.token][-50:]
            return redirect("files-share", token=token)
        error = error or _("Wrong password.")
    if not _unlocked(request, share):
        return render(
            request, "files/share_password.html", {"share": share, "error": error}, status=403 if error else 200
        )
    context = {"share": share, "path": request.GET.get("path", ""), "listing": None, "entry": None}
    try:
        if share.access == ShareLink.Access.UPLOAD:
            services.sharelink_target(share=share, upload=True)
        elif share.is_dir:
            context["listing"] = _share_listing(share, context["path"])
        else:
            context["entry"] = services.sharelink_target(share=share)
    except (PathError, OSError):
        raise Http404 from None
    return render(request, "files/share.html", context)


def _share_listing(share: ShareLink, path: str) -> dict:
    folder = services.sharelink_resolve(share=share, path=path)
    if not folder.is_dir():
        raise PathError(_("This is not a folder."), 404)
    with folder.fd() as fd:
        names = [name for name in fs.names(fd) if not name.startswith(".")]
    entries = [entry for name in names if (entry := _share_entry(folder, name)) is not None]
    view = "/".join(folder.parts)
    return {"path": view, "entries": entries, "breadcrumb": selectors.breadcrumb(view)}


def _share_entry(folder, name: str) -> dict | None:
    """One row of a shared folder; links leading out of it, and entries gone meanwhile, are not listed."""
    try:
        st = folder.child(name).lstat()
    except (PathError, OSError):
        return None
    return {
        "name": name,
        "path": "/".join((*folder.parts, name)),
        "is_dir": stat.S_ISDIR(st.st_mode),
        "size": st.st_size,
    }


@require_http_methods(["GET", "HEAD"])
def share_download(request, token: str):
    """The shared file, or a file inside the shared folder (`?path=` relative to it); Range works."""
    share = _share(request, token)
    if not _unlocked(request, share) or share.access != ShareLink.Access.READ:
        raise Http404
    try:
        target = services.sharelink_resolve(share=share, path=request.GET.get("path", ""))
        response = file_response(request, target, inline=request.GET.get("inline") == "1")
    except (PathError, OSError):  # not a file, or not one any more (a folder swapped for a link on the way)
        raise Http404 from None
    if request.method == "GET" and "Range" not in request.headers:
        ShareLink.objects.filter(pk=share.pk).update(downloads=share.downloads + 1)
    return response


@require_http_methods(["GET"])
def share_zip(request, token: str):
    """The whole shared folder as a streamed zip."""
    share = _share(request, token)
    if not _unlocked(request, share) or share.access != ShareLink.Access.READ or not share.is_dir:
        raise Http404
    try:
        target = services.sharelink_resolve(share=share)
    except (PathError, OSError):
        raise Http404 from None
    return zip_response([target], f"{target.name or 'shared'}.zip")
