"""REST endpoints of the home page: the search, and which widgets a user shows."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMember

from .search import home_search
from .widgets import WIDGETS, widgets_of, widgets_show


class HitSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    detail = serializers.CharField()
    icon = serializers.CharField()


class GroupSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=["apps", "catalog", "files", "settings"])
    label = serializers.CharField()
    results = HitSerializer(many=True)
    truncated = serializers.BooleanField(help_text=_("more may exist (files: the search stopped at its limit)"))


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    groups = GroupSerializer(many=True)


class SearchView(APIView):
    """GET ?q=: installed apps, App Store apps, files by name and settings pages this user may see, grouped."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="what to look for (at most 100 characters are used)")],
        responses={200: SearchResultsSerializer},
        operation_id="search",
    )
    def get(self, request):
        return Response(home_search(user=request.user, query=request.query_params.get("q", "")))


class WidgetsSerializer(serializers.Serializer):
    shown = serializers.ListField(child=serializers.ChoiceField(choices=list(WIDGETS)), allow_empty=True)


class WidgetsView(APIView):
    """GET: every home widget and whether this user shows it. PUT {"shown": [...]}: show exactly those."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: OpenApiResponse(description="[{key, label, shown}]")})
    def get(self, request):
        return Response(_listed(request.user))

    @extend_schema(request=WidgetsSerializer, responses={200: OpenApiResponse(description="[{key, label, shown}]")})
    def put(self, request):
        data = WidgetsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        widgets_show(user=request.user, shown=data.validated_data["shown"])
        return Response(_listed(request.user))


def _listed(user) -> list[dict]:
    return [{**w, "label": str(w["label"])} for w in widgets_of(user=user)]
