"""REST endpoints for apps: install (202 + id), status and progress, cancel, uninstall."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from accounts.permissions import CanInstall, IsAdmin, IsMember

from .models import Installation
from .selectors import app_state
from .selectors_manage import app_get_for, app_visible
from .serializers import AppStateSerializer, InstallAcceptedSerializer, InstallRequestSerializer
from .services import InstallError, app_cancel, app_install, app_install_retry, app_uninstall
from .services.common import PolicyError

# A refusal's HTTP status by its code; anything else is the client's to fix (400).
REFUSAL_STATUS = {"busy": 409, "stepup": 403, "forbidden": 403, "engine": 503}


def refusal_status(exc) -> int:
    """409 busy, 403 step-up or forbidden, 503 when the container engine does not answer (not the client's fault),
    else 400."""
    if getattr(exc, "stepup", False):
        return status.HTTP_403_FORBIDDEN
    return REFUSAL_STATUS.get(getattr(exc, "code", None), status.HTTP_400_BAD_REQUEST)


def refusal_body(exc, detail: str = "") -> dict:
    """The reason and its code; a policy refusal adds its plain-words `flags`, the `findings` and `stepup`."""
    body = {"detail": detail or exc.messages[0], "code": getattr(exc, "code", None) or "install"}
    if isinstance(exc, PolicyError):
        body.update(flags=exc.flags, findings=[f.as_dict() for f in exc.findings], stepup=getattr(exc, "stepup", False))
    return body


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
        return paginator.get_paginated_response([app_state(i) for i in page])

    @extend_schema(
        request=InstallRequestSerializer,
        responses={
            202: InstallAcceptedSerializer,
            400: OpenApiResponse(
                description="invalid compose, port or name taken; refused by the container policy (`policy`) or "
                "consent needed (`consent`), with `flags` and `findings`"
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
        return Response(app_state(app_get_for(user=request.user, pk=pk)))  # members: granted apps only

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
        return Response(app_state(inst), status=status.HTTP_202_ACCEPTED)


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
        return Response(app_state(inst), status=status.HTTP_202_ACCEPTED)


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
        return Response(app_state(inst), status=status.HTTP_202_ACCEPTED)


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
