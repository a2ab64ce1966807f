"""REST endpoints under /api/vpn/: admins only; every change through vpn/services.py, audited there."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, request_stepped_up
from casaos_site.validation import validated

from . import serializers as s
from .models import VpnPeer
from .onetime import peer_created_payload, request_host
from .selectors import server_payload, vpn_overview, vpn_server
from .services import VpnRefused, vpn_peer_create, vpn_peer_revoke, vpn_server_update


def refusals(view):
    """A refused change answers its 4xx with the reason, its code and the field."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except VpnRefused as exc:
            body = {"detail": exc.message, "code": exc.code}
            if exc.field:
                body[exc.field] = [exc.message]
            return Response(body, status=exc.status)

    return wrapper


class VpnView(APIView):
    """The WireGuard server: on or off, its range and port, what devices are told, and how the last apply went."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.ServerSerializer)
    def get(self, request):
        return Response(s.ServerSerializer(server_payload(vpn_server())).data)

    @extend_schema(request=s.ServerWriteSerializer, responses=s.ServerSerializer)
    @refusals
    def patch(self, request):
        changes = validated(s.ServerWriteSerializer, request.data)
        server = vpn_server_update(
            user=request.user, request=request, stepped_up=request_stepped_up(request), **changes
        )
        return Response(s.ServerSerializer(server_payload(server)).data)


class PeerListView(APIView):
    """Devices allowed to connect (GET); a new device (POST): its configuration and QR code, shown only this once."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.PeerSerializer(many=True))
    def get(self, request):
        return Response(s.PeerSerializer(vpn_overview()["peers"], many=True).data)

    @extend_schema(request=s.PeerCreateSerializer, responses={201: s.PeerCreatedSerializer})
    @refusals
    def post(self, request):
        data = validated(s.PeerCreateSerializer, request.data)
        peer, text = vpn_peer_create(
            user=request.user,
            request=request,
            stepped_up=request_stepped_up(request),
            name=data["name"],
            fallback_host=request_host(request),
        )
        return Response(peer_created_payload(peer, text), status=status.HTTP_201_CREATED, headers=NO_STORE)


NO_STORE = {"Cache-Control": "no-store"}  # a private key: no cache keeps the answer


class PeerView(APIView):
    """Revoke a device: it can no longer connect (the worker removes it from the live interface)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        vpn_peer_revoke(user=request.user, request=request, peer=get_object_or_404(VpnPeer, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
