"""REST endpoint for an app's last log lines (the live tail is the websocket of consumers/logs.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from apps.selectors import app_container_of, app_get_for
from apps.services.common import engine_for, engine_said
from apps.views.logs import log_lines
from runtime.errors import EngineError


class AppLogsView(APIView):
    """The last `lines` log lines of one service (the live tail is the websocket /ws/apps/{id}/logs/)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("service", str, required=True), OpenApiParameter("lines", int)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        lines = log_lines(request.query_params.get("lines"), default=200)
        try:
            eng = engine_for(inst)
            container = app_container_of(inst=inst, service=request.query_params.get("service", ""), eng=eng)
            return Response({"lines": list(eng.logs(container, tail=lines, timestamps=True))})
        except EngineError as exc:
            return Response({"detail": engine_said(exc)}, status=404)
