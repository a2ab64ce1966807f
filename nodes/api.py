"""REST endpoints under /api/nodes/: admins only; every change through nodes/services.py, audited there."""

from __future__ import annotations

from functools import wraps

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from casaos_site.validation import validated

from . import serializers as s
from .selectors import init_payload, join_payload, node_payload, nodes_overview
from .services import NodesRefused, join_info, join_token_rotate, node_remove, node_update, swarm_init

NO_STORE = {"Cache-Control": "no-store"}  # join tokens let a machine into the swarm: no cache keeps them
REFUSED = OpenApiResponse(s.RefusalSerializer, description="The reason (detail) and its code.")
ENGINE_AWAY = {503: OpenApiResponse(s.RefusalSerializer, description="The engine does not answer.")}
NOT_MANAGER = {409: OpenApiResponse(s.RefusalSerializer, description="This box is not a swarm manager."), **ENGINE_AWAY}


def refusals(view):
    """A refused change answers its 4xx (or 503) with the reason, its code and the field (and the choices)."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except NodesRefused as exc:
            body = {"detail": exc.message, "code": exc.code, **exc.extra}
            if exc.field:
                body[exc.field] = [exc.message]
            return Response(body, status=exc.status)

    return wrapper


class NodesView(APIView):
    """The swarm's state, this box's addresses (to make it a manager), the newest init and, on a manager, the nodes."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: s.OverviewSerializer, **ENGINE_AWAY})
    @refusals
    def get(self, request):
        return Response(s.OverviewSerializer(nodes_overview()).data)


class InitView(APIView):
    """Make this box the first manager of a new swarm, on one of its addresses: 202, then the task's progress on
    /ws/nodes/ (GET /api/nodes/ says how it went). 409 when it is in a swarm already; 400 with the box's addresses
    as `choices` when the address is not one of them."""

    permission_classes = [IsAdmin]

    @extend_schema(
        request=s.InitRequestSerializer,
        responses={202: s.InitSerializer, 400: REFUSED, **NOT_MANAGER},
    )
    @refusals
    def post(self, request):
        data = validated(s.InitRequestSerializer, request.data)
        row = swarm_init(user=request.user, advertise_addr=data["advertise_addr"], request=request)
        return Response(s.InitSerializer(init_payload(row)).data, status=status.HTTP_202_ACCEPTED)


class JoinTokenView(APIView):
    """The join tokens and the commands to run on another machine (worker or manager)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: s.JoinSerializer, **NOT_MANAGER})
    @refusals
    def get(self, request):
        return Response(s.JoinSerializer(join_payload(join_info())).data, headers=NO_STORE)


class JoinTokenRotateView(APIView):
    """A new join token for a role: the old one no longer lets a machine join (those already in stay)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.RotateSerializer, responses={200: s.JoinSerializer, 400: REFUSED, **NOT_MANAGER})
    @refusals
    def post(self, request):
        data = validated(s.RotateSerializer, request.data)
        info = join_token_rotate(user=request.user, role=data["role"], request=request)
        return Response(s.JoinSerializer(join_payload(info)).data, headers=NO_STORE)


FORCE = OpenApiParameter(
    "force", OpenApiTypes.BOOL, description="Remove a node that is still up (it keeps running outside the swarm)."
)


class NodeView(APIView):
    """One node: drain, pause or activate it and set its labels (PATCH); forget it (DELETE, a node that is down;
    ?force=true for one still up). This box's own node cannot be removed."""

    permission_classes = [IsAdmin]

    @extend_schema(
        request=s.NodeUpdateSerializer,
        responses={200: s.NodeSerializer, 400: REFUSED, 404: REFUSED, **NOT_MANAGER},
    )
    @refusals
    def patch(self, request, node_id: str):
        data = validated(s.NodeUpdateSerializer, request.data)
        node = node_update(user=request.user, node_id=node_id, request=request, **data)
        return Response(s.NodeSerializer(node_payload(node)).data)

    @extend_schema(parameters=[FORCE], responses={204: None, 404: REFUSED, **NOT_MANAGER})
    @refusals
    def delete(self, request, node_id: str):
        force = request.query_params.get("force", "").lower() in ("1", "true", "yes")
        node_remove(user=request.user, node_id=node_id, force=force, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
