"""The Shares page (admins) and the SMB password form of the account page (everyone, for themselves)."""

from __future__ import annotations

import socket
from functools import wraps

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, member_required, stepup_required
from storage.host.errors import HostError

from .models import Share, ShareGrant
from .selectors import grantable_users, shares_list
from .services import share_change, share_create, share_remove, shares_retry
from .smbaccounts import smb_password_set
from .validation import ShareRefused


def _context(**extra) -> dict:
    return {
        "shares": shares_list(),
        "users": grantable_users(),
        "accesses": ShareGrant.Access.choices,
        "host": socket.gethostname(),
        **extra,
    }


def _page(request, *, error: str = "", status: int = 200, form: dict | None = None):
    context = _context(error=error, form=form or {})
    return render(request, "shares/index.html", context, status=status)


@admin_required
def shares_index(request):
    """Every share with its state, who may use it, and how to reach it; a form for a new one."""
    return _page(request)


@admin_required
def shares_cards(request):
    """The shares alone: what the page fetches when its socket says a state changed."""
    return render(request, "shares/partials/_shares.html", _context())


def share_action(view):
    """A page action: done → back to the page with a note; refused → the page again with the reason, at its 4xx."""

    @admin_required
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            note = view(request, *args, **kwargs)
        except ShareRefused as exc:
            return _page(request, error=exc.message, status=exc.status, form=request.POST)
        except HostError as exc:
            return _page(request, error=str(exc), status=503, form=request.POST)
        messages.success(request, note)
        return redirect("shares")

    return wrapper


def _grants(post) -> dict[int, str]:
    """access-<user id> = read | write (empty: none); any other key or value is refused by the service."""
    grants = {}
    for key, access in post.items():
        if key.startswith("access-") and access:
            try:
                grants[int(key.removeprefix("access-"))] = access
            except ValueError:
                raise ShareRefused(_("Choose users from the list."), field="grants") from None
    return grants


def _fields(post) -> dict:
    return {
        "name": post.get("name", ""),
        "place": post.get("place", ""),
        "guest": post.get("guest") == "on",
        "visible": post.get("visible") == "on",
        "recycle": post.get("recycle") == "on",
    }


@share_action
def share_create_view(request):
    share = share_create(user=request.user, request=request, grants=_grants(request.POST), **_fields(request.POST))
    return _("The share %(name)s is being applied.") % {"name": share.name}


@share_action
def share_change_view(request, pk: int):
    share = get_object_or_404(Share, pk=pk)
    share_change(user=request.user, share=share, request=request, grants=_grants(request.POST), **_fields(request.POST))
    return _("The share %(name)s is being applied.") % {"name": share.name}


@share_action
def share_delete_view(request, pk: int):
    share = share_remove(user=request.user, share=get_object_or_404(Share, pk=pk), request=request)
    return _("The share %(name)s is being removed.") % {"name": share.name}


@share_action
def shares_apply_view(request):
    shares_retry(user=request.user, request=request)
    return _("The shares are being applied again.")


@never_cache
@member_required
@require_POST
@stepup_required
@sensitive_post_parameters("smb_password1", "smb_password2")
def smb_password_view(request):
    """The account page's SMB password form: the password goes to Samba's passdb, nowhere else."""
    first, second = request.POST.get("smb_password1", ""), request.POST.get("smb_password2", "")
    if first != second:
        messages.error(request, _("The two SMB passwords differ."))
        return redirect("/settings/#smb")
    try:
        account = smb_password_set(user=request.user, password=first, request=request)
    except ShareRefused as exc:
        messages.error(request, exc.message)
    except HostError as exc:
        messages.error(request, _("Samba could not take the password: %(error)s") % {"error": exc})
    else:
        messages.success(
            request, _("Your SMB password is set; log in to shares as %(name)s.") % {"name": account.unix_name}
        )
    return redirect("/settings/#smb")
