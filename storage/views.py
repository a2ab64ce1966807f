"""System pages: the figures fragment the home page's widgets poll, and storage."""

from django.shortcuts import render

from accounts.permissions import member_required

from .selectors import system_status_latest


@member_required
def stats_fragment(request):
    """The figures fragment, polled by the page while its websocket is down."""
    return render(request, "storage/partials/_stats.html", {"stats": system_status_latest()})


@member_required
def storage_index(request):
    return render(request, "coming.html", {"title": "Storage"})
