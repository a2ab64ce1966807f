"""REST endpoints for an app's settings (per service or the whole compose), who sees it, and its export."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from apps.api.common import accepted, refused
from apps.selectors import app_get_for, grants_of
from apps.serializers import GrantsSerializer, OperationSerializer, SettingsSerializer
from apps.services.common import InstallError
from apps.services.export import app_export
from apps.services.settings_edit import ServiceEdit, app_settings_change, service_settings
from apps.services.visibility import app_grants_set


class AppSettingsView(APIView):
    """GET the editable settings per service and the compose; POST changes (202; rolled back if the app fails)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        return Response({"services": service_settings(inst.compose), "compose": inst.compose})

    @extend_schema(request=SettingsSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edits = {name: ServiceEdit(**fields) for name, fields in (data.validated_data.get("services") or {}).items()}
        try:
            return accepted(
                app_settings_change(
                    user=request.user,
                    installation=inst,
                    edits=edits,
                    compose=data.validated_data.get("compose"),
                    consent=data.validated_data["consent"],
                    override_limits=data.validated_data["override_limits"],
                    consent_paths=data.validated_data["consent_paths"],
                    request=request,
                )
            )
        except InstallError as exc:
            return refused(exc)


class AppGrantsView(APIView):
    """Which members see the app (admins see all); PUT replaces the list."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=GrantsSerializer)
    def get(self, request, pk: int):
        return Response({"members": grants_of(inst=app_get_for(user=request.user, pk=pk))})

    @extend_schema(request=GrantsSerializer, responses=GrantsSerializer)
    def put(self, request, pk: int):
        data = GrantsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        members = app_grants_set(
            user=request.user,
            installation=app_get_for(user=request.user, pk=pk),
            member_ids=data.validated_data["members"],
            request=request,
        )
        return Response({"members": members})


class AppExportView(APIView):
    """The app as one compose file that `docker compose up` accepts."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={(200, "application/yaml"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        response = HttpResponse(app_export(installation=inst), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{inst.name}-compose.yaml"'
        return response
