"""REST endpoints of the Network page: admins only; every change through network/services.py, audited there."""

from __future__ import annotations

from functools import wraps

from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, request_stepped_up

from . import serializers as s
from .checks import NetworkRefused
from .models import NetworkChange
from .selectors import change_payload, network_overview
from .services import network_change_confirm, network_change_request, network_hostname_set


def refusals(view):
    """A refused change answers its 4xx with the reason (409 where NetworkManager cannot make it), and the field."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except NetworkRefused as exc:
            body = {"detail": exc.message, "code": exc.code}
            if exc.field:
                body[exc.field] = [exc.message]
            return Response(body, status=exc.status)

    return wrapper


def request_host(request) -> str:
    """The address the request came to, as the client wrote it (what proves the new address answers)."""
    return split_domain_port(request.get_host())[0].strip("[]")


class NetworkView(APIView):
    """Interfaces (addresses, MAC, speed, state, throughput), default route, DNS, host name, LAN URL, open change."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(network_overview())


class HostnameView(APIView):
    """Rename the box: a fresh step-up (or a full-scope token); Settings → System's own checks apply."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.HostnameSerializer, responses=OpenApiTypes.OBJECT)
    @refusals
    def put(self, request):
        serializer = s.HostnameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = network_hostname_set(user=request.user, request=request, **serializer.validated_data)
        return Response({"hostname": serializer.validated_data["hostname"], "changed": changed})


class InterfaceView(APIView):
    """DHCP or a static address on an interface, behind a checkpoint: 202 with the change and its confirmation code,
    to be sent to /api/network/changes/<id>/confirm/ through the new address before the deadline."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.InterfaceChangeSerializer, responses={202: OpenApiTypes.OBJECT})
    @refusals
    def post(self, request, name: str):
        serializer = s.InterfaceChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change, token = network_change_request(
            user=request.user,
            request=request,
            interface=name,
            stepped_up=request_stepped_up(request),
            **serializer.validated_data,
        )
        return Response({**change_payload(change), "token": token}, status=202)


class ChangeView(APIView):
    """One interface change: its status, step and error."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response(change_payload(get_object_or_404(NetworkChange, pk=pk)))


class ChangeConfirmView(APIView):
    """Keep a change: its code, sent to the new address before NetworkManager's rollback."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.ConfirmSerializer, responses=OpenApiTypes.OBJECT)
    @refusals
    def post(self, request, pk: int):
        change = get_object_or_404(NetworkChange, pk=pk)
        serializer = s.ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        network_change_confirm(
            change=change,
            token=serializer.validated_data["token"],
            host=request_host(request),
            user=request.user,
            request=request,
        )
        return Response(change_payload(change))
