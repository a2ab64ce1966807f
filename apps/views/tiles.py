"""The apps page: a tile per app, their order and hiding, and opening an app (starting it first if needed)."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import member_required
from apps.models import Installation
from apps.selectors import app_card, app_get_for, app_open_url, app_tiles
from apps.services.common import InstallError
from apps.services.control import app_control
from apps.services.visibility import tile_hide, tiles_reorder
from apps.views.common import host, navigate, refused


@member_required
def home(request):
    """The apps page: a tile per app this user may see, in their order; live status over the websocket."""
    show_hidden = request.GET.get("hidden") == "1"
    context = {"tiles": app_tiles(user=request.user, show_hidden=show_hidden), "show_hidden": show_hidden}
    return render(request, "apps/home.html" if not request.htmx else "apps/partials/_tiles.html", context)


@member_required
@require_POST
def tiles_order(request):
    """Save the order the user dragged the tiles into (ids, comma separated)."""
    ids = [int(v) for v in request.POST.get("order", "").split(",") if v.strip().isdigit()]
    tiles_reorder(user=request.user, order=ids)
    return HttpResponse(status=204)


@member_required
@require_POST
def tile_visibility(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    tile_hide(user=request.user, installation=inst, hidden=request.POST.get("hidden") == "1")
    return navigate(request, reverse("apps") + ("?hidden=1" if request.POST.get("hidden") != "1" else ""))


@member_required
def app_open(request, pk: int):
    """Running: straight to its web UI. Stopped: offer to start it, then wait on this page until it answers."""
    inst = app_get_for(user=request.user, pk=pk)
    url = app_open_url(inst=inst, request_host=host(request))
    if inst.status == Installation.Status.RUNNING and url:
        return redirect(url)
    if request.method == "POST":
        try:
            app_control(user=request.user, installation=inst, action="start", request=request)
        except InstallError as exc:
            refused(request, exc)
    return render(request, "apps/open.html", {"card": app_card(inst), "url": url})


@member_required
def app_open_state(request, pk: int):
    """Polled by the open page: redirects the browser once the app runs (its start waited for the web port)."""
    inst = app_get_for(user=request.user, pk=pk)
    url = app_open_url(inst=inst, request_host=host(request))
    if inst.status == Installation.Status.RUNNING and url and not app_card(inst)["operation"]:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return render(request, "apps/partials/_open_state.html", {"card": app_card(inst)})
