"""The REST API under /api/: each Django app contributes its own api_urls."""

from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def api_root(request, format=None):
    """Entry points of the API."""
    return Response(
        {
            "system-status": reverse("api-system-status", request=request, format=format),
            "schema": reverse("api-schema", request=request, format=format),
            "docs": reverse("api-docs", request=request, format=format),
        }
    )


urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # An HTML page only: its template renderer has nothing to render an OPTIONS description with.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    path("", include("storage.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("appstore.api_urls")),
    path("", include("proxy.api_urls")),  # before apps: its /apps/<id>/<action>/ would take /address/
    path("", include("apps.api_urls")),
    path("", include("files.api_urls")),
    path("", include("home.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("network.api_urls")),
    path("", include("firewall.api_urls")),
    path("", include("monitoring.api_urls")),
    path("", include("system.api_urls")),
    path("", include("backups.api_urls")),
    path("", include("remotes.api_urls")),
    path("", include("shares.api_urls")),
    path("", include("vpn.api_urls")),
    path("", include("nodes.api_urls")),
]
