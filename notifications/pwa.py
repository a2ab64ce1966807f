"""The site as an installable app: its manifest and its service worker (served from the root, so it covers every page)."""

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME = "#0172ad"  # the favicon's blue


@require_safe
@cache_control(max_age=3600, public=True)
def manifest(request):
    """The web app manifest: name, icons, and a start at the home page in a window of its own."""
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"img/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    body = {
        "name": "CasaOS",
        "short_name": "CasaOS",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME,
        "background_color": "#ffffff",
        "icons": icons,
    }
    return JsonResponse(body, content_type="application/manifest+json")


@require_safe
@cache_control(no_cache=True)
def service_worker(request):
    """The service worker's script; browsers check it for changes at each visit (no-cache)."""
    response = HttpResponse(render_to_string("notifications/sw.js"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response
