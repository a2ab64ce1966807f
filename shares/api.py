"""REST endpoints under /api/shares/: shares for admins; each user's own SMB password."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, IsMember, StepUpRequired
from casaos_site.validation import validated
from storage.host.errors import HostError

from . import serializers as s
from .models import Share
from .selectors import shares_list, smb_state
from .services import share_change, share_create, share_remove, shares_retry
from .smbaccounts import smb_password_set
from .validation import ShareRefused


def refusals(view):
    """A refused setting answers its 4xx with the reason (and the field); a failing host tool answers 503."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except ShareRefused as exc:
            return Response({"detail": exc.message, "field": exc.field}, status=exc.status)
        except HostError as exc:
            return Response({"detail": str(exc), "code": "host"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)

    return wrapper


def _grants(items) -> dict[int, str]:
    return {item["user"]: item["access"] for item in items}


def _shown(pk: int) -> dict:
    return s.ShareSerializer(shares_list().get(pk=pk)).data


class ShareListView(APIView):
    """Every share with its grants and state (GET); a new share (POST), applied by a worker."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.ShareSerializer(many=True))
    def get(self, request):
        return Response(s.ShareSerializer(shares_list(), many=True).data)

    @extend_schema(request=s.ShareWriteSerializer, responses={201: s.ShareSerializer})
    @refusals
    def post(self, request):
        data = validated(s.ShareWriteSerializer, request.data)
        grants = _grants(data.pop("grants"))
        share = share_create(user=request.user, request=request, grants=grants, **data)
        return Response(_shown(share.pk), status=status.HTTP_201_CREATED)


class ShareDetailView(APIView):
    """One share (GET), a change of what is given (PATCH), its removal (DELETE: gone once Samba no longer has it)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.ShareSerializer)
    def get(self, request, pk: int):
        return Response(s.ShareSerializer(get_object_or_404(shares_list(), pk=pk)).data)

    @extend_schema(request=s.ShareWriteSerializer, responses=s.ShareSerializer)
    @refusals
    def patch(self, request, pk: int):
        data = validated(s.ShareWriteSerializer, request.data, partial=True)
        grants = _grants(data.pop("grants")) if "grants" in data else None
        share = share_change(user=request.user, share=get_object_or_404(Share, pk=pk), request=request,
                             grants=grants, **data)  # fmt: skip
        return Response(_shown(share.pk))

    @extend_schema(responses={202: s.ShareSerializer})
    @refusals
    def delete(self, request, pk: int):
        share = share_remove(user=request.user, share=get_object_or_404(Share, pk=pk), request=request)
        return Response(_shown(share.pk), status=status.HTTP_202_ACCEPTED)


class ShareApplyView(APIView):
    """Apply the stored shares again (failed ones included): after a disk came back or Samba was fixed."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: s.ShareSerializer(many=True)})
    def post(self, request):
        shares_retry(user=request.user, request=request)
        return Response(s.ShareSerializer(shares_list(), many=True).data, status=status.HTTP_202_ACCEPTED)


class SmbPasswordView(APIView):
    """Your own SMB user name and whether you set a password (GET); set it (POST, with a fresh step-up)."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsMember(), StepUpRequired()]
        return [IsMember()]

    @extend_schema(responses=s.SmbStateSerializer)
    def get(self, request):
        return Response(s.SmbStateSerializer(smb_state(request.user)).data)

    @extend_schema(request=s.SmbPasswordSerializer, responses=s.SmbStateSerializer)
    @refusals
    def post(self, request):
        data = validated(s.SmbPasswordSerializer, request.data)
        smb_password_set(user=request.user, password=data["password"], request=request)
        return Response(s.SmbStateSerializer(smb_state(request.user)).data)
