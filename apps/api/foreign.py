"""REST endpoints for containers we did not create: list, start/stop, adopt as a custom app (admins only)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from apps.api.common import app_answer, refused
from apps.serializers import AdoptSerializer
from apps.services.common import InstallError, engine_said
from apps.services.foreign import foreign_adopt, foreign_control, foreign_list
from runtime.errors import EngineError


class ForeignListView(APIView):
    """Containers on the engine that are not our apps."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(
            [
                {"id": c.id, "name": c.name, "image": c.image, "state": c.state, "status": c.status}
                for c in foreign_list()
            ]
        )


class ForeignActionView(APIView):
    """POST start | stop | adopt one foreign container (adopt installs it as a custom app: 202)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=AdoptSerializer, responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def post(self, request, cid: str, action: str):
        try:
            if action == "adopt":
                data = AdoptSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                inst = foreign_adopt(
                    user=request.user,
                    container_id=cid,
                    name=data.validated_data.get("name", ""),
                    consent=data.validated_data["consent"],
                    override_limits=data.validated_data["override_limits"],
                    consent_paths=data.validated_data["consent_paths"],
                    request=request,
                )
                return Response(app_answer(inst), status=status.HTTP_202_ACCEPTED)
            info = foreign_control(user=request.user, container_id=cid, action=action, request=request)
        except InstallError as exc:
            return refused(exc)
        except EngineError as exc:
            return Response({"detail": engine_said(exc)}, status=400)
        return Response({"id": info.id, "name": info.name, "state": info.state})
