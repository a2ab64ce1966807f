"""GET /api/firewall/: what is open and to whom (admins only, like the Network page that shows the same)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin

from .selectors import firewall_overview
from .serializers import FirewallSerializer


class FirewallView(APIView):
    """The firewall's state, the LAN it trusts, each published app port (LAN-only or public) and the admin ports."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=FirewallSerializer)
    def get(self, request):
        return Response(FirewallSerializer(firewall_overview()).data)
