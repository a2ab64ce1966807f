"""REST endpoints of Settings → System and the Logs page: admins only, every change audited by its service."""

from __future__ import annotations

from functools import wraps

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, request_stepped_up

from . import serializers as s
from .releases import release_check
from .selectors import system_hardware, system_logs, system_settings_view
from .services import SystemRefused, system_power, system_settings_update


def refusals(view):
    """A refused change answers its 4xx (or 503 from the host) with the reason, and the field at fault."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except SystemRefused as exc:
            body = {"detail": exc.message, "code": exc.code}
            if exc.field:
                body[exc.field] = [exc.message]
            return Response(body, status=exc.status)

    return wrapper


def settings_payload() -> dict:
    return {**system_settings_view(), "hardware": system_hardware(), "release": release_check().as_dict()}


class SystemSettingsView(APIView):
    """Host name, time zone, default language, web address, automount; the version, hardware and release check."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.SystemSettingsSerializer)
    def get(self, request):
        return Response(settings_payload())

    @extend_schema(request=s.SystemSettingsPatchSerializer, responses=s.SystemSettingsSerializer)
    @refusals
    def patch(self, request):
        serializer = s.SystemSettingsPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        system_settings_update(user=request.user, request=request, **serializer.validated_data)
        return Response(settings_payload())


class PowerView(APIView):
    """Restart or shut down the box: a fresh step-up (or a full-scope token) and the host name as `confirm`."""

    permission_classes = [IsAdmin]
    power = ""

    @extend_schema(
        request=s.PowerSerializer,
        responses={202: inline_serializer("PowerAccepted", {"detail": serializers.CharField()})},
    )
    @refusals
    def post(self, request):
        serializer = s.PowerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        system_power(
            user=request.user,
            request=request,
            action=self.power,
            confirm=serializer.validated_data["confirm"],
            stepped_up=request_stepped_up(request),
        )
        return Response({"detail": self.power}, status=202)


class LogsView(APIView):
    """Our processes' structured log, newest first: `level` (least), `q` (words), `process`, `after` (a time)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[s.LogQuerySerializer],
        responses=inline_serializer("LogLines", {"results": s.LogEntrySerializer(many=True)}),
    )
    def get(self, request):
        query = s.LogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        text = params.pop("q")
        return Response({"results": system_logs(text=text, **params)})
