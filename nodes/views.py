"""The Machines page (admins), beside Network: thin, every write through nodes/services.py."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required

from .selectors import AVAILABILITY_NAMES, nodes_page
from .services import NodesRefused, join_token_rotate, labels_parse, node_remove, node_update, swarm_init


def _page(request, *, error: str = "", status: int = 200, form: dict | None = None):
    context = {**nodes_page(), "refusal": error, "form": form or {}}
    return render(request, "nodes/index.html", context, status=status)


@never_cache  # the join tokens are in it
@admin_required
def nodes_index(request):
    """This box's place in a swarm: the form that makes it a manager, or the join commands and the nodes."""
    return _page(request)


@never_cache
@admin_required
def nodes_panel(request):
    """The live part alone: what the page fetches when its socket says something changed, and every few seconds
    (a node going down sends no event we hear)."""
    return render(request, "nodes/partials/_panel.html", nodes_page())


def node_action(view):
    """A page action: done → back to the page with a note; refused → the page again with the reason, at its 4xx."""

    @never_cache
    @admin_required
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            note = view(request, *args, **kwargs)
        except NodesRefused as exc:
            return _page(request, error=exc.message, status=exc.status, form=request.POST)
        messages.success(request, note)
        return redirect("nodes:index")

    return wrapper


@node_action
def init_view(request):
    swarm_init(user=request.user, advertise_addr=request.POST.get("advertise_addr", ""), request=request)
    return _("This box is being made a swarm manager.")


@node_action
def rotate_view(request):
    role = request.POST.get("role", "")
    join_token_rotate(user=request.user, role=role, request=request)
    if role == "manager":
        return _("The manager join token is new: the old one no longer works.")
    return _("The worker join token is new: the old one no longer works.")


@node_action
def availability_view(request, node_id: str):
    node = node_update(
        user=request.user, node_id=node_id, availability=request.POST.get("availability", ""), request=request
    )
    return _("%(name)s is now %(availability)s.") % {
        "name": node.hostname,
        "availability": AVAILABILITY_NAMES.get(node.availability, node.availability),
    }


@node_action
def labels_view(request, node_id: str):
    labels = labels_parse(request.POST.get("labels", ""))
    node = node_update(user=request.user, node_id=node_id, labels=labels, request=request)
    return _("The labels of %(name)s are saved.") % {"name": node.hostname}


@node_action
def remove_view(request, node_id: str):
    force = request.POST.get("force") == "1"
    node_remove(user=request.user, node_id=node_id, force=force, request=request)
    return _("The machine is removed from the swarm.")
