"""REST endpoints for one installed app: its containers and history, start/stop/restart, live figures, uninstall.
Members reach only apps granted to them; changes are for admins."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, IsMember
from apps.api.common import accepted, refused
from apps.selectors import app_detail, app_get_for, app_history, app_state_shown, app_stats
from apps.serializers import OperationSerializer, UninstallSerializer
from apps.services.common import InstallError, engine_for
from apps.services.control import ACTIONS, app_control
from apps.services.uninstall import app_remove
from casaos_site.i18n import shown


class AppInfoView(APIView):
    """Containers (ports, mounts, env with secrets masked), state, operation, update state, history."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        detail = app_detail(inst=inst, eng=engine_for(inst))
        detail["card"] = app_state_shown(detail["card"])
        detail["history"] = [_event(e) for e in detail["history"]]
        return Response(detail)


class AppControlView(APIView):
    """POST start | stop | restart: 202 with the operation's id, 409 while another operation runs.

    Members may start an app granted to them; stop and restart are for admins."""

    permission_classes = [IsMember]

    @extend_schema(
        request=None,
        responses={202: OperationSerializer, 409: OpenApiResponse(description="busy")},
        operation_id="apps_control",
    )
    def post(self, request, pk: int, action: str):
        inst = app_get_for(user=request.user, pk=pk)
        if action not in ACTIONS:
            return Response({"detail": _("Unknown action %(action)s.") % {"action": action}}, status=404)
        if action != "start" and not request.user.is_admin:
            return Response({"detail": IsAdmin.message}, status=403)
        try:
            return accepted(app_control(user=request.user, installation=inst, action=action, request=request))
        except InstallError as exc:
            return refused(exc)


class AppStatsView(APIView):
    """CPU (100 = one core) and memory of the app right now, summed and per service."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        return Response(app_stats(inst=inst, eng=engine_for(inst)))


class AppHistoryView(APIView):
    """The app's operations, newest first."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response([_event(e) for e in app_history(inst=app_get_for(user=request.user, pk=pk), limit=100)])


class AppUninstallView(APIView):
    """Uninstall (202). Data stays unless delete_data, which needs a step-up (or a full-scope token)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=UninstallSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = UninstallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delete_data = data.validated_data["delete_data"]
        try:  # deleting data: the service answers "step-up needed" (403) unless the session or token is stepped up
            return accepted(app_remove(user=request.user, installation=inst, delete_data=delete_data, request=request))
        except InstallError as exc:
            return refused(exc)


def _event(e) -> dict:
    return {
        "id": e.pk,
        "operation": e.operation,
        "outcome": e.outcome,
        "message": shown(e.message),
        "user": e.user.get_username() if e.user else None,
        "at": e.created_at.isoformat(),
    }
