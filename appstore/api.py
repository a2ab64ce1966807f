"""REST endpoints of the app store: stores (admins change them) and the catalogue (everyone reads it)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.viewsets import ReadOnlyModelViewSet, ViewSet

from accounts.permissions import CanInstall, IsAdmin, IsMember
from apps.api.common import refusal_body, refusal_status

from . import services
from .forms import InstallForm
from .install import form_port_errors, install_fields, store_install
from .models import CatalogApp, Store
from .parsing import project_name
from .selectors import (
    CatalogQuery,
    catalog_categories,
    catalog_search,
    host_architecture,
    install_marks,
    store_state,
    store_states,
)
from .serializers import (
    CatalogAppDetailSerializer,
    CatalogAppSerializer,
    CatalogInstallAcceptedSerializer,
    CatalogInstallSerializer,
    CategorySerializer,
    StoreCreateSerializer,
    StoreDetailSerializer,
    StoreSerializer,
    StoreUpdateSerializer,
)


class StoreViewSet(ViewSet):
    """Stores: list and read (members), add, switch, sync and remove (admins)."""

    queryset = Store.objects.none()  # only tells the schema what `id` is
    lookup_value_converter = "int"  # anything else is no route (404), never a query with a bad id

    def get_permissions(self):
        # Everyone sees where the catalogue comes from; only admins change it.
        return [IsMember()] if self.action in ("list", "retrieve") else [IsAdmin()]

    @extend_schema(responses=StoreSerializer(many=True))
    def list(self, request):
        return Response(StoreSerializer(store_states(), many=True).data)

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
        services.store_set_enabled(
            user=request.user, store=store, enabled=body.validated_data["enabled"], request=request
        )
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
    return CatalogQuery(
        search=get.get("search", "")[:200],
        category=get.get("category", "")[:100],
        author_type=get.get("author_type", "")[:16],
        arch=host_architecture() if arch == "host" else arch[:20],
        store=int(store) if store.isdigit() else None,
    )


class CatalogViewSet(ReadOnlyModelViewSet):
    """The catalogue of every enabled store: search, filters, one app with compose and risk report."""

    permission_classes = [IsMember]
    queryset = CatalogApp.objects.none()  # the schema's view of `id`; get_queryset() gives the real rows
    lookup_value_converter = "int"

    def get_queryset(self):
        if self.action in ("retrieve", "install"):
            return catalog_search(CatalogQuery()).defer(None).select_related("store")
        return catalog_search(_query(self.request))

    def get_serializer_class(self):
        return CatalogAppDetailSerializer if self.action == "retrieve" else CatalogAppSerializer

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "marks": install_marks()}  # one read for a whole page

    @extend_schema(
        request=CatalogInstallSerializer,
        responses={
            202: CatalogInstallAcceptedSerializer,
            400: OpenApiResponse(
                description="a value, the name or a port is refused; refused by the container policy (`policy`) or "
                "consent needed (`consent`), with `flags` and `findings`; a placement refused (`placement`)"
            ),
            403: OpenApiResponse(description="not allowed to install; host access: an admin with a fresh step-up only"),
            503: OpenApiResponse(description="the container engine does not answer"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanInstall])
    def install(self, request, pk=None):
        """Install this app: template defaults, overridden by `values`; the same path as the install form."""
        app = self.get_object()
        body = CatalogInstallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = install_form_from_api(
            app,
            name=body.validated_data.get("name", ""),
            values=body.validated_data.get("values"),
            consent=body.validated_data["consent"],
        )
        if form.is_valid():
            form_port_errors(form)
        if form.errors:
            return Response(
                {"detail": _first_error(form), "code": "values", "errors": form.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            inst = store_install(
                user=request.user,
                app=app,
                name=form.cleaned_data["name"],
                values=form.values(),
                consent=body.validated_data["consent"],
                consent_paths=body.validated_data["consent_paths"],
                placement=body.validated_data.get("placement"),
                request=request,
            )
        except ValidationError as exc:
            return _refused(exc)
        return Response(_accepted(request, inst), status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=FILTERS[:1] + FILTERS[2:], responses=CategorySerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def categories(self, request):
        """Categories with the number of apps in each (under the other filters)."""
        return Response(CategorySerializer(catalog_categories(_query(request)), many=True).data)


def install_form_from_api(
    app: CatalogApp, *, name: str = "", values: dict | None = None, consent: bool = False
) -> InstallForm:
    """The install form bound to the template's defaults, overridden by the request's values (one validation)."""
    name = name or project_name(app.store_app_id)
    fields = install_fields(app, name=name, language=get_language() or "en")
    unknown = set(values or {}) - {f.key for f in fields}
    data = {"name": name, **{f.key: f.initial for f in fields}, **(values or {})}
    if consent:
        data["consent"] = "on"
    # Consent is the service's to check, so a refusal names the flags the person consents to.
    form = InstallForm(data, fields=fields, needs_consent=False)
    for key in sorted(unknown):
        form.add_error(None, _("%(key)s is not a value of this app.") % {"key": key})
    return form


def _first_error(form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""


def _refused(exc: ValidationError) -> Response:
    """The installer's refusal, shaped as POST /api/apps/ shapes it (403 when only a step-up is missing)."""
    return Response(refusal_body(exc), status=refusal_status(exc))


def _accepted(request, inst) -> dict:
    scheme = "wss" if request.is_secure() else "ws"
    return {
        "id": inst.pk,
        "name": inst.name,
        "status": inst.status,
        "url": reverse("api-app-detail", args=[inst.pk], request=request),
        "websocket": f"{scheme}://{request.get_host()}/ws/apps/{inst.pk}/?format=json",
    }
