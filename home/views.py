"""The home page: app tiles, widgets beside them, and the one search box."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import member_required
from apps.selectors import app_tiles
from storage.selectors import system_status_latest

from .search import home_search
from .widgets import widgets_of, widgets_show


@member_required
def home(request):
    """Tiles of the apps this user may see, in their order; widgets; live over /ws/apps/live/ and /ws/system/."""
    show_hidden = request.GET.get("hidden") == "1"
    context = {"tiles": app_tiles(user=request.user, show_hidden=show_hidden), "show_hidden": show_hidden}
    if request.htmx:  # the tiles alone: what the page refreshes after a change, and polls without a socket
        return render(request, "apps/partials/_tiles.html", context)
    context.update(stats=system_status_latest(), widgets=widgets_of(user=request.user))
    return render(request, "home/index.html", context)


@member_required
def search(request):
    """Grouped results: the fragment under the search box for htmx, a page of its own otherwise."""
    results = home_search(user=request.user, query=request.GET.get("q", ""))
    template = "home/partials/_results.html" if request.htmx else "home/search.html"
    return render(request, template, {"results": results})


@member_required
@require_POST
def widgets(request):
    """Save which widgets this user shows (the ticked boxes); back to the home page."""
    widgets_show(user=request.user, shown=request.POST.getlist("shown"))
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("dashboard")
