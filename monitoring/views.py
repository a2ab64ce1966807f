"""GET /metrics for Prometheus: an admin's API token, or a scraper address the owner allowed (CASAOS_METRICS_SCRAPERS)."""

import ipaddress

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import APITokenAuthentication
from accounts.net import client_address
from accounts.permissions import user_is_admin
from storage.selectors import system_status_latest

from .prometheus import metrics_text


class PrometheusRenderer(BaseRenderer):
    """The text format as is; a refusal's detail as one line of text."""

    media_type = "text/plain; version=0.0.4"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return (str(data.get("detail", data)) if isinstance(data, dict) else str(data)).encode() + b"\n"


class TextOnly(BaseContentNegotiation):
    """Prometheus asks for OpenMetrics first; the 0.0.4 text format is what every version of it reads."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def scraper_allowed(address: str | None) -> bool:
    """Whether an address is in CASAOS_METRICS_SCRAPERS (addresses or networks)."""
    if not address or not settings.METRICS_SCRAPERS:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_SCRAPERS)


class IsScraper(BasePermission):
    """An allowed scraper address, or an admin's token (a member's token would show every app's name: 403)."""

    def has_permission(self, request, view) -> bool:
        if scraper_allowed(client_address(request)):
            return True
        return request.auth is not None and user_is_admin(request.user)


class PrometheusView(APIView):
    """The host, the apps, installs, uploads, logins, the task queues and failed tasks."""

    authentication_classes = [APITokenAuthentication]
    permission_classes = [IsScraper]
    renderer_classes = [PrometheusRenderer]
    content_negotiation_class = TextOnly
    throttle_classes = []  # a scraper asks every 15 s; the token's own lockout still counts bad tokens

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(metrics_text(figures=system_status_latest()))
