"""REST endpoints for system status."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMember

from .selectors import system_status_latest


class SystemStatusView(APIView):
    """The dashboard figures as JSON: CPU, memory, disks, network."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: OpenApiResponse(description="Latest system figures")})
    def get(self, request):
        return Response(system_status_latest())
