"""REST endpoints for installing apps: install (202 + id) from a compose document or as a custom app, status and
progress, cancel, retry, uninstall."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from accounts.permissions import CanInstall, IsAdmin, IsMember
from apps.api.common import app_answer, refusal_body, refusal_status, refused
from apps.docker_run import DockerRunError, compose_from_run
from apps.models import Installation
from apps.selectors import app_get_for, app_visible
from apps.serializers import AppStateSerializer, CustomSerializer, InstallAcceptedSerializer, InstallRequestSerializer
from apps.services import app_cancel, app_install_retry, app_uninstall
from apps.services.common import InstallError
from apps.services.install import app_install


def _refused(exc: InstallError) -> Response:
    """A refused request with the reason (its status from refusal_status)."""
    return Response(refusal_body(exc), status=refusal_status(exc))


class AppListView(APIView):
    """Installed apps (members read); POST installs from a compose document (admins, members allowed to install)."""

    def get_permissions(self):
        return [CanInstall()] if self.request.method == "POST" else [IsMember()]

    @extend_schema(responses={200: AppStateSerializer(many=True)})
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(app_visible(user=request.user), request, view=self)
        return paginator.get_paginated_response([app_answer(i) for i in page])

    @extend_schema(
        request=InstallRequestSerializer,
        responses={
            202: InstallAcceptedSerializer,
            400: OpenApiResponse(
                description="invalid compose, port or name taken; refused by the container policy (`policy`) or "
                "consent needed (`consent`), with `flags` and `findings`; a placement refused (`placement`: "
                "this box is no swarm manager, no such node, a malformed label)"
            ),
            403: OpenApiResponse(description="not allowed to install, host access without an admin, or a step-up"),
            503: OpenApiResponse(description="the container engine does not answer"),
        },
    )
    def post(self, request):
        data = InstallRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            inst = app_install(
                user=request.user,
                compose=data.validated_data["compose"],
                name=data.validated_data.get("name") or None,
                inputs=data.validated_data.get("inputs") or {},
                consent=data.validated_data["consent"],
                override_limits=data.validated_data["override_limits"],
                consent_paths=data.validated_data["consent_paths"],
                placement=data.validated_data.get("placement"),
                request=request,
            )
        except InstallError as exc:
            return _refused(exc)
        return Response(_accepted(request, inst), status=status.HTTP_202_ACCEPTED)


class AppDetailView(APIView):
    """One app's status and progress; DELETE uninstalls it (its data stays unless ?delete_data=true)."""

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "DELETE" else [IsMember()]

    @extend_schema(responses={200: AppStateSerializer})
    def get(self, request, pk: int):
        return Response(app_answer(app_get_for(user=request.user, pk=pk)))  # members: granted apps only

    @extend_schema(
        parameters=[
            OpenApiParameter("delete_data", bool, description="also remove its volumes (needs a fresh step-up)")
        ],
        responses={202: AppStateSerializer, 400: OpenApiResponse(description="still installing")},
    )
    def delete(self, request, pk: int):
        inst = get_object_or_404(Installation, pk=pk)
        delete_data = request.query_params.get("delete_data", "").lower() in ("1", "true", "yes")
        try:
            app_uninstall(user=request.user, installation=inst, delete_data=delete_data, request=request)
        except InstallError as exc:
            return _refused(exc)
        return Response(app_answer(inst), status=status.HTTP_202_ACCEPTED)


class AppRetryView(APIView):
    """Retry a failed or cancelled install with the settings it was asked with (the same checks as a new one)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses={
            202: AppStateSerializer,
            400: OpenApiResponse(description="not failed or cancelled, or a port it publishes is taken now"),
            403: OpenApiResponse(description="host access: a fresh step-up is needed"),
            503: OpenApiResponse(description="the container engine does not answer"),
        },
    )
    def post(self, request, pk: int):
        inst = get_object_or_404(Installation, pk=pk)
        try:
            inst = app_install_retry(user=request.user, installation=inst, request=request)
        except InstallError as exc:
            return _refused(exc)
        return Response(app_answer(inst), status=status.HTTP_202_ACCEPTED)


class AppCancelView(APIView):
    """Cancel an install in progress: it removes what it created and ends `cancelled`."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: AppStateSerializer, 400: OpenApiResponse(description="not running")})
    def post(self, request, pk: int):
        inst = get_object_or_404(Installation, pk=pk)
        try:
            inst = app_cancel(user=request.user, installation=inst, request=request)
        except InstallError as exc:
            return _refused(exc)
        return Response(app_answer(inst), status=status.HTTP_202_ACCEPTED)


class CustomAppView(APIView):
    """Install a custom app from a compose document or `docker run` commands (202 with the app)."""

    permission_classes = [CanInstall]

    @extend_schema(request=CustomSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        data = CustomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        compose, run = data.validated_data.get("compose", ""), data.validated_data.get("docker_run", "")
        if bool(compose.strip()) == bool(run.strip()):
            return Response({"detail": _("Give exactly one of compose and docker_run.")}, status=400)
        try:
            compose = compose or compose_from_run(run)
            inst = app_install(
                user=request.user,
                compose=compose,
                name=data.validated_data.get("name") or None,
                consent=data.validated_data["consent"],
                override_limits=data.validated_data["override_limits"],
                consent_paths=data.validated_data["consent_paths"],
                placement=data.validated_data.get("placement"),
                request=request,
            )
        except DockerRunError as exc:
            return Response({"detail": str(exc), "code": "docker_run"}, status=400)
        except InstallError as exc:
            return refused(exc)
        return Response(app_answer(inst), status=status.HTTP_202_ACCEPTED)


def _accepted(request, inst: Installation) -> dict:
    url = reverse("api-app-detail", args=[inst.pk], request=request)
    scheme = "wss" if request.is_secure() else "ws"
    return {
        "id": inst.pk,
        "name": inst.name,
        "status": inst.status,
        "url": url,
        "web_port": inst.web_port,
        "websocket": f"{scheme}://{request.get_host()}/ws/apps/{inst.pk}/?format=json",
    }
