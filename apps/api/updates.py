"""REST endpoints for updates: update now, check, hold, update every app."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from apps.api.common import accepted, refused
from apps.selectors import app_get_for
from apps.serializers import HoldSerializer, OperationSerializer, UpdateSerializer
from apps.services.common import InstallError, engine_said
from apps.services.update import app_hold, app_update_all, app_update_check, app_update_start
from casaos_site.i18n import shown
from runtime.errors import EngineError


class AppUpdateView(APIView):
    """POST: update now (202); pulls, recreates, waits healthy, rolls back on failure."""

    permission_classes = [IsAdmin]

    @extend_schema(request=UpdateSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return accepted(
                app_update_start(
                    user=request.user,
                    installation=inst,
                    consent=data.validated_data["consent"],
                    consent_paths=data.validated_data["consent_paths"],
                    backup=data.validated_data["backup"],
                    request=request,
                )
            )
        except InstallError as exc:
            return refused(exc)


class AppUpdateCheckView(APIView):
    """GET the cached update state (checked periodically); POST checks now."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response(_update(app_update_check(installation=app_get_for(user=request.user, pk=pk))))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        try:
            state = app_update_check(installation=app_get_for(user=request.user, pk=pk), force=True)
        except EngineError as exc:
            return Response({"detail": engine_said(exc)}, status=503)
        return Response(_update(state))


class AppHoldView(APIView):
    """Hold the app at its version (no update, not in update-all) or release it."""

    permission_classes = [IsAdmin]

    @extend_schema(request=HoldSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = HoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = app_hold(
            user=request.user,
            installation=app_get_for(user=request.user, pk=pk),
            held=data.validated_data["held"],
            request=request,
        )
        return Response(_update(state))


class AppUpdateAllView(APIView):
    """Queue an update of every app that has one and is not held; lists what was queued and what was skipped."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        return Response(app_update_all(user=request.user, request=request), status=status.HTTP_202_ACCEPTED)


def _update(state) -> dict:
    return {
        "available": state.available and not state.held,
        "held": state.held,
        "reason": shown(state.reason),
        "checked_at": state.checked_at.isoformat() if state.checked_at else None,
        "remote_digests": state.remote_digests,
    }
