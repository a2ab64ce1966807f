"""REST endpoints of the app store: stores (admins change them) and the catalogue (everyone reads it)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.viewsets import ReadOnlyModelViewSet, ViewSet

from accounts.permissions import IsAdmin, IsMember

from . import services
from .models import Store
from .selectors import CatalogQuery, catalog_categories, catalog_search, host_architecture, store_list, store_state
from .serializers import (
    CatalogAppDetailSerializer,
    CatalogAppSerializer,
    CategorySerializer,
    StoreCreateSerializer,
    StoreDetailSerializer,
    StoreSerializer,
    StoreUpdateSerializer,
)


class StoreViewSet(ViewSet):
    """Stores: list and read (members), add, switch, sync and remove (admins)."""

    def get_permissions(self):
        # Everyone sees where the catalogue comes from; only admins change it.
        return [IsMember()] if self.action in ("list", "retrieve") else [IsAdmin()]

    @extend_schema(responses=StoreSerializer(many=True))
    def list(self, request):
        return Response(StoreSerializer([store_state(s) for s in store_list()], many=True).data)

    @extend_schema(responses=StoreDetailSerializer)
    def retrieve(self, request, pk=None):
        store = get_object_or_404(Store, pk=pk)
        return Response(StoreDetailSerializer({**store_state(store), "problems": store.problems}).data)

    @extend_schema(request=StoreCreateSerializer, responses={201: StoreSerializer})
    def create(self, request):
        body = StoreCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            store = services.store_create(user=request.user, request=request, **body.validated_data)
        except ValidationError as exc:
            raise ApiValidationError({"detail": exc.messages}) from None
        return Response(StoreSerializer(store_state(store)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StoreUpdateSerializer, responses=StoreSerializer)
    def partial_update(self, request, pk=None):
        store = get_object_or_404(Store, pk=pk)
        body = StoreUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.store_set_enabled(user=request.user, store=store, enabled=body.validated_data["enabled"],
                                   request=request)
        return Response(StoreSerializer(store_state(store)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.store_delete(user=request.user, store=get_object_or_404(Store, pk=pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: StoreSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdmin])
    def sync(self, request, pk=None):
        """Queue a sync now; follow it on /ws/appstore/stores/?format=json or by reading the store."""
        store = services.store_sync(store=get_object_or_404(Store, pk=pk))
        return Response(StoreSerializer(store_state(store)).data, status=status.HTTP_202_ACCEPTED)


FILTERS = [
    OpenApiParameter("search", str, description="Words found in titles, taglines or descriptions (any locale)"),
    OpenApiParameter("category", str),
    OpenApiParameter("author_type", str, enum=["official", "by_casaos", "community"]),
    OpenApiParameter("arch", str, description="amd64, arm64, arm...; `host` means this machine's"),
    OpenApiParameter("store", int),
]


def _query(request) -> CatalogQuery:
    get = request.query_params
    arch = get.get("arch", "")
    store = get.get("store", "")
    return CatalogQuery(search=get.get("search", "")[:200], category=get.get("category", "")[:100],
                        author_type=get.get("author_type", "")[:16],
                        arch=host_architecture() if arch == "host" else arch[:20],
                        store=int(store) if store.isdigit() else None)


class CatalogViewSet(ReadOnlyModelViewSet):
    """The catalogue of every enabled store: search, filters, one app with compose and risk report."""

    permission_classes = [IsMember]

    def get_queryset(self):
        if self.action == "retrieve":
            return catalog_search(CatalogQuery()).defer(None).select_related("store")
        return catalog_search(_query(self.request))

    def get_serializer_class(self):
        return CatalogAppDetailSerializer if self.action == "retrieve" else CatalogAppSerializer

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=FILTERS[:1] + FILTERS[2:], responses=CategorySerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def categories(self, request):
        """Categories with the number of apps in each (under the other filters)."""
        return Response(CategorySerializer(catalog_categories(_query(request)), many=True).data)
