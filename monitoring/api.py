"""GET /api/system/metrics/: the metrics history for the charts and for scripts."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMember
from apps.selectors import app_get_for

from .history import metrics_root
from .selectors import RANGES, metrics_range


def _range(request) -> str:
    name = request.query_params.get("range", "1h")
    if name not in RANGES:
        raise ValidationError({"range": [_("Choose one of: %(ranges)s.") % {"ranges": ", ".join(RANGES)}]})
    return name


def _prefix(request) -> tuple[str, ...]:
    """The host's series, or one app's when ?app= names an app this user may see (else 404, as for no app)."""
    raw = request.query_params.get("app")
    if raw is None:
        return ("host",)
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationError({"app": [_("An app is given by its number.")]})
    return ("app", str(app_get_for(user=request.user, pk=int(raw)).pk))


class MetricsHistoryView(APIView):
    """The host's figures (or one app's) over the last hour, day or month, as chart series on shared times."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[
            OpenApiParameter("range", str, enum=list(RANGES), description="1h (10 s), 24h (1 min) or 30d (30 min)"),
            OpenApiParameter("app", int, required=False, description="one app's series instead of the host's"),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="times and series")},
    )
    def get(self, request):
        return Response(metrics_range(root=metrics_root(), range_name=_range(request), prefix=_prefix(request)))
