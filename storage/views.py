"""System pages: the figures fragment the home page's widgets poll, and the Storage page with its actions."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, member_required, stepup_is_fresh

from .formatting import disk_format
from .host.errors import HostError
from .models import Disk, Mount, Pool
from .mounts import disk_eject, mount_create, mount_remove
from .page import storage_page
from .pools import pool_change, pool_create, pool_delete
from .safety import StorageRefused, refuse_raw_path
from .selectors import system_status_latest


@member_required
def stats_fragment(request):
    """The figures fragment, polled by the page while its websocket is down."""
    return render(request, "storage/partials/_stats.html", {"stats": system_status_latest()})


def _page(request, *, error: str = "", holders=(), status: int = 200):
    context = {**storage_page(), "error": error, "holders": holders, "stepup_fresh": stepup_is_fresh(request)}
    return render(request, "storage/index.html", context, status=status)


@admin_required
def storage_index(request):
    """A card per disk with its filesystems, health and actions; pools below."""
    return _page(request)


@admin_required
def storage_cards(request):
    """The cards alone: what the page fetches when the socket says the inventory or a job changed."""
    context = {**storage_page(), "stepup_fresh": stepup_is_fresh(request)}
    return render(request, "storage/partials/_cards.html", context)


def storage_action(view):
    """A page action: done → back to the page with a note; refused → the page again with the reason, at its 4xx."""

    @admin_required
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            note = view(request, *args, **kwargs)
        except StorageRefused as exc:
            return _page(request, error=exc.message, holders=exc.details.get("holders", ()), status=exc.status)
        except HostError as exc:
            return _page(request, error=str(exc), status=503)
        messages.success(request, note)
        return redirect("storage")

    return wrapper


def _disk(disk_id: str) -> Disk:
    refuse_raw_path(disk_id)
    return get_object_or_404(Disk, stable_id=disk_id)


def _ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise StorageRefused(_("Choose mounted disks from the list."), code="members", status=400) from exc


@storage_action
def storage_mount(request):
    mount = mount_create(
        fs_uuid=request.POST.get("uuid", ""), name=request.POST.get("name", ""), user=request.user, request=request
    )
    return _("Mounted at %(target)s.") % {"target": mount.target}


@storage_action
def storage_unmount(request, pk: int):
    mount = get_object_or_404(Mount, pk=pk)
    mount_remove(mount=mount, user=request.user, request=request)
    return _("%(target)s is unmounted.") % {"target": mount.target}


@storage_action
def storage_eject(request, disk_id: str):
    powered_off = disk_eject(disk=_disk(disk_id), user=request.user, request=request)
    return _("The disk can be unplugged now.") if powered_off else _("Unmounted: the disk is safe to remove.")


@storage_action
def storage_format(request, disk_id: str):
    disk_format(
        disk=_disk(disk_id),
        fstype=request.POST.get("fstype", "ext4"),
        label=request.POST.get("label", ""),
        confirm=request.POST.get("confirm", ""),
        user=request.user,
        request=request,
    )
    return _("Formatting started: the card shows its progress.")


@storage_action
def storage_pool_create(request):
    pool = pool_create(
        name=request.POST.get("name", ""),
        mount_ids=_ids(request.POST.getlist("members")),
        policy=request.POST.get("policy", "epmfs"),
        user=request.user,
        request=request,
    )
    return _("The pool %(name)s is mounted at %(target)s.") % {"name": pool.name, "target": pool.target}


@storage_action
def storage_pool_change(request, pk: int):
    pool = pool_change(
        pool=get_object_or_404(Pool, pk=pk),
        policy=request.POST.get("policy") or None,
        mount_ids=_ids(request.POST.getlist("members")),
        user=request.user,
        request=request,
    )
    return _("The pool %(name)s is changed.") % {"name": pool.name}


@storage_action
def storage_pool_delete(request, pk: int):
    pool = get_object_or_404(Pool, pk=pk)
    pool_delete(pool=pool, user=request.user, request=request)
    return _("The pool %(name)s is removed; its disks stay mounted.") % {"name": pool.name}
