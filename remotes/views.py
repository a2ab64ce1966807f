"""The Remotes page and its actions (HTMX-free forms, like the Storage page): admins only, one service per act."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required

from . import oauth, services, sync
from .backends import BACKENDS, RemoteRefused
from .models import Remote, SyncJob
from .page import remotes_page


def _page(request, *, error: str = "", status: int = 200, **extra):
    return render(request, "remotes/index.html", {**remotes_page(), "error": error, **extra}, status=status)


@admin_required
def remotes_index(request):
    """A card per remote (state, root, actions), its sync jobs, and the form that adds one."""
    return _page(request)


def remote_action(view):
    """A page action: done → back to the page with a note; refused → the page again with the reason, at its 4xx."""

    @admin_required
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            answer = view(request, *args, **kwargs)
        except RemoteRefused as exc:
            return _page(request, error=exc.message, status=exc.status)
        if not isinstance(answer, str):
            return answer
        messages.success(request, answer)
        return redirect("remotes")

    return wrapper


def _posted(request, kind: str, names) -> dict:
    """The chosen kind's own fields of the add form (each kind's fieldset names its inputs "<kind>-<field>")."""
    return {name: request.POST.get(f"{kind}-{name}", "") for name in names if request.POST.get(f"{kind}-{name}")}


@remote_action
def remotes_add(request):
    kind = request.POST.get("kind", "")
    spec = BACKENDS.get(kind)
    if spec is None:
        raise RemoteRefused(_("Choose a kind of remote."))
    remote = services.remote_create(user=request.user, request=request, kind=kind, name=request.POST.get("name", ""),
                                    options=_posted(request, kind, spec.options),
                                    secrets=_posted(request, kind, spec.secrets))  # fmt: skip
    if remote.state == Remote.State.AUTHORIZING:
        return _("%(name)s is added: authorise access to it below.") % {"name": remote.name}
    return _("%(name)s is mounted: it is @%(name)s in Files.") % {"name": remote.name}


@remote_action
def remote_mount(request, pk: int):
    remote = services.remote_mount(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
    if remote.state != Remote.State.MOUNTED:
        raise RemoteRefused(remote.message, status=422)
    return _("%(name)s is mounted.") % {"name": remote.name}


@remote_action
def remote_unmount(request, pk: int):
    remote = services.remote_unmount(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
    return _("%(name)s is unmounted.") % {"name": remote.name}


@remote_action
def remote_delete(request, pk: int):
    remote = get_object_or_404(Remote, pk=pk)
    services.remote_delete(user=request.user, remote=remote, request=request)
    return _("%(name)s is removed.") % {"name": remote.name}


@remote_action
def remote_authorize(request, pk: int):
    remote = get_object_or_404(Remote, pk=pk)
    url = oauth.authorize_start(user=request.user, remote=remote, request=request)
    return _page(request, authorize={"remote": remote.pk, "url": url})


@remote_action
def remote_authorize_finish(request, pk: int):
    remote = get_object_or_404(Remote, pk=pk)
    oauth.authorize_finish(user=request.user, remote=remote, answer=request.POST.get("answer", ""), request=request)
    return _("%(name)s is authorised: mount it to use it.") % {"name": remote.name}


@remote_action
def sync_add(request):
    remote = get_object_or_404(Remote, pk=_int(request.POST.get("remote")))
    sync.sync_create(user=request.user, request=request, remote=remote,
                     remote_path=request.POST.get("remote_path", ""), local_path=request.POST.get("local_path", ""),
                     direction=request.POST.get("direction", ""), schedule=request.POST.get("schedule", ""))  # fmt: skip
    return _("The sync job is saved.")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RemoteRefused(_("Choose a remote from the list.")) from None


@remote_action
def sync_run(request, pk: int):
    sync.sync_start(job=get_object_or_404(SyncJob, pk=pk), user=request.user, request=request)
    return _("The sync started: its progress shows below.")


@remote_action
def sync_delete(request, pk: int):
    sync.sync_delete(user=request.user, job=get_object_or_404(SyncJob, pk=pk), request=request)
    return _("The sync job is removed.")
