"""REST endpoints of the proxy: its settings and each app's address (admins only; every change re-pushes Caddy)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from apps.selectors import app_get_for

from . import serializers as s
from .selectors import address_view, proxy_settings_view
from .services import ProxyRefused, address_update, proxy_settings_update


def _refused(exc: ProxyRefused) -> Response:
    body = {"detail": exc.message}
    if exc.field:
        body[exc.field] = [exc.message]
    return Response(body, status=400)


class ProxySettingsView(APIView):
    """The box's domain, where certificates come from, HTTPS on or off."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.ProxySettingsSerializer)
    def get(self, request):
        return Response(proxy_settings_view())

    @extend_schema(request=s.ProxySettingsPatchSerializer, responses=s.ProxySettingsSerializer)
    def patch(self, request):
        data = s.ProxySettingsPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            proxy_settings_update(user=request.user, request=request, **data.validated_data)
        except ProxyRefused as exc:
            return _refused(exc)
        return Response(proxy_settings_view())


class AppAddressView(APIView):
    """The app's address `https://<name>.<domain>`, our login in front of it, and whether it is public."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=s.AddressSerializer)
    def get(self, request, pk: int):
        return Response(address_view(app_get_for(user=request.user, pk=pk)))

    @extend_schema(request=s.AddressPatchSerializer, responses=s.AddressSerializer)
    def patch(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = s.AddressPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            address_update(user=request.user, installation=inst, request=request, **data.validated_data)
        except ProxyRefused as exc:
            return _refused(exc)
        return Response(address_view(inst))
