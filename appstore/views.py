"""App store pages: browse and search, an app's page with its risk report, the install form, store admin."""

import hashlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import (
    admin_required,
    installer_required,
    member_required,
    stepup_is_fresh,
    user_is_admin,
    user_may_install,
)
from apps.forms import placement_of
from storage.selectors import mounted_roots

from . import services
from .assets import CONTENT_TYPES, asset_path
from .forms import CatalogFilterForm, InstallForm, LanSettingForm, StoreAddForm
from .install import form_port_errors, install_fields, store_install, store_risk
from .models import AppstoreSettings, CatalogApp, Store
from .parsing import pick, project_name
from .risk import RiskReport
from .selectors import (
    CatalogQuery,
    catalog_browse,
    catalog_categories,
    catalog_featured,
    catalog_get,
    catalog_mark,
    catalog_recommended,
    catalog_status,
    catalog_stores,
    host_architecture,
    install_marks,
    store_state,
    store_states,
)

PAGE_SIZE = 24


def _filters(request) -> CatalogFilterForm:
    """The address's query string, checked against the categories and stores there are."""
    categories = [c["name"] for c in catalog_categories()]
    return CatalogFilterForm(request.GET, categories=categories, stores=catalog_stores())


def _query(form: CatalogFilterForm) -> CatalogQuery:
    form.is_valid()
    data = form.cleaned_data  # the valid fields only: a value that names nothing is left out, never a 500
    return CatalogQuery(
        search=data.get("q", ""),
        category=data.get("category", ""),
        author_type=data.get("author_type", ""),
        arch=host_architecture() if data.get("runs_here") else "",
        store=data.get("store"),
    )


def _params(query: CatalogQuery) -> QueryDict:
    """The query as the address writes it: the filters in use and nothing else (what links and history keep)."""
    params = QueryDict(mutable=True)
    values = {"q": query.search, "category": query.category, "author_type": query.author_type}
    params.update({key: value for key, value in values.items() if value})
    if query.arch:
        params["runs_here"] = "1"
    if query.store is not None:
        params["store"] = str(query.store)
    return params


def _ignored(form: CatalogFilterForm) -> list[dict]:
    """The filters of the address that were left out, with the value and why (the page says so)."""
    return [
        {"label": form[name].label, "value": form.data.get(name, "")[:100], "reason": errors[0]}
        for name, errors in form.errors.items()
    ]


def _address(request, params: QueryDict, page) -> str:
    """The address of what the page shows now: pushed into the history by a search, kept by a reload or a link."""
    params = params.copy()
    if page.number > 1:
        params["page"] = str(page.number)
    return request.path + (f"?{params.urlencode()}" if params else "")


@member_required
@require_GET
def index(request):
    """The catalogue: featured and recommended lists, categories with counts, search and filters (all in the URL)."""
    form = _filters(request)
    query = _query(form)
    page, categories = catalog_browse(query, page=request.GET.get("page"), size=PAGE_SIZE)
    filtered = any((query.search, query.category, query.author_type, query.arch, query.store is not None))
    status = catalog_status()
    if request.htmx and request.GET.get("poll") and not status.empty:
        return HttpResponse(headers={"HX-Refresh": "true"})  # the stores loaded: the whole page, shelves too
    params = _params(query)
    context = {
        "query": query,
        "form": form,
        "ignored": _ignored(form),
        "page": page,
        "categories": categories,
        "filtered": filtered,
        "author_types": CatalogApp.AuthorType.choices,
        "stores": form.fields["store"].choices[1:],
        "host_arch": host_architecture(),
        "params": params,
        "status": status,
    }
    if request.htmx and request.htmx.target == "catalog-results":
        response = render(request, "appstore/partials/_results.html", context)
        response["HX-Push-Url"] = _address(request, params, page)  # the clean address, not the form's raw one
    else:
        marks = None if filtered else install_marks()
        context["featured"] = [] if filtered else catalog_featured(marks=marks)
        context["recommended"] = [] if filtered else catalog_recommended(marks=marks)
        response = render(request, "appstore/index.html", context)
    # One address, two answers (the page, the results fragment): a browser's cache must not give one for the other.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _app(pk: int) -> CatalogApp:
    try:
        return catalog_get(pk=pk)
    except CatalogApp.DoesNotExist:
        raise Http404 from None


@member_required
@require_GET
def app_detail(request, pk: int):
    """An app: sanitised description, screenshots, tips, facts, risk report, install button."""
    app = catalog_mark([_app(pk)])[0]
    report = store_risk(app, user=request.user)  # this person's install: their folders, today's engine
    return render(
        request,
        "appstore/detail.html",
        {
            "app": app,
            "report": report,
            "installed": app.installed,
            "update_available": app.update_available,
            "runs_here": not app.architecture_list or host_architecture() in app.architecture_list,
            "may_install": user_may_install(request.user)
            and not report.refused
            and (user_is_admin(request.user) or not report.needs_consent),
            "host_access": report.needs_consent,
        },
    )


# ---------------------------------------------------------------------------- install
def _install_form(request, app: CatalogApp, data=None):
    name = (data or {}).get("name") or project_name(app.store_app_id)
    fields = install_fields(app, name=name, language=get_language() or "en")
    disks = mounted_roots() if user_is_admin(request.user) else ()  # a member's app cannot use a whole disk
    return InstallForm(
        data,
        fields=fields,
        needs_consent=app.needs_consent,
        disks=disks,
        initial={"name": project_name(app.store_app_id)},
    )


def _stepup_url(request) -> str:
    try:
        return reverse("stepup") + "?next=" + request.get_full_path()
    except NoReverseMatch:
        return ""


def _install_post(request, app: CatalogApp, form: InstallForm):
    """The installation, or None with the reasons on the form (ports, name taken, consent, step-up...)."""
    form_port_errors(form)
    if form.errors:
        return None
    try:
        return store_install(
            user=request.user,
            app=app,
            name=form.cleaned_data["name"],
            values=form.values(),
            consent=form.cleaned_data.get("consent", False),
            consent_paths=request.POST.getlist("consent_paths"),
            placement=placement_of(form),
            request=request,
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return None


def _typed_risk(request, app: CatalogApp, form: InstallForm) -> RiskReport:
    """Typed values can grant host access the template did not ask for: the report of what they would do."""
    name = form.cleaned_data.get("name") or project_name(app.store_app_id)
    return store_risk(app, user=request.user, values=form.values(), name=name)


@installer_required
def app_install(request, pk: int):
    """The install form: prefilled from the template, ports checked, consent and step-up for host access."""
    app = _app(pk)
    report = store_risk(app, user=request.user)
    if report.needs_consent and not user_is_admin(request.user):
        messages.error(request, _("Only an administrator can install an app that asks for host access."))
        return redirect("appstore-app", pk=app.pk)
    form = _install_form(request, app, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        inst = _install_post(request, app, form) if form.is_valid() else None
        if inst is not None:
            # No "Installing…" message: it would stay beside whatever the install became (the page is live).
            return redirect("app-detail", pk=inst.pk)
        report = _typed_risk(request, app, form)
    return render(
        request,
        "appstore/install.html",
        {
            "app": app,
            "form": form,
            "report": report,
            "stepup_fresh": stepup_is_fresh(request),
            "named": request.POST.getlist("consent_paths"),
            "stepup_url": _stepup_url(request),
        },
    )


# ---------------------------------------------------------------------------- assets
@member_required
@require_GET
def asset(request, name: str):
    """An icon or screenshot copied at sync; SVG is sandboxed so a hostile one can do nothing."""
    path = asset_path(name)
    if path is None:
        raise Http404
    response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response["Cache-Control"] = "private, max-age=31536000, immutable"  # the name is the content's hash
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


HUES = (210, 0, 30, 120, 160, 260, 300, 190)


@member_required
@require_GET
def placeholder(request, pk: int):
    """A generated icon (initial on a coloured tile) for an app without a usable one."""
    app = get_object_or_404(CatalogApp.objects.only("title", "store_app_id"), pk=pk)
    title = pick(app.title, get_language() or "en") or app.store_app_id
    hue = HUES[int(hashlib.sha256(app.store_app_id.encode()).hexdigest(), 16) % len(HUES)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<rect width="64" height="64" rx="14" fill="hsl({hue},55%,45%)"/>'
        '<text x="32" y="43" font-family="sans-serif" font-size="30" font-weight="700" fill="#fff" '
        f'text-anchor="middle">{escape(title[:1].upper() or "?")}</text></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


# ---------------------------------------------------------------------------- stores (admin)
@admin_required
def stores(request):
    """Every store with its live state; add a store; allow LAN stores."""
    form = StoreAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_create(
                user=request.user,
                request=request,
                url=form.cleaned_data["url"],
                path=form.cleaned_data["path"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Store added; its first sync is under way."))
            return redirect("appstore-stores")
    return render(
        request,
        "appstore/stores.html",
        {
            "stores": store_states(),
            "form": form,
            "lan_form": LanSettingForm(initial={"allow_lan_stores": AppstoreSettings.load().allow_lan_stores}),
        },
    )


@admin_required
@require_POST
def catalog_retry(request):
    """The App Store page's Retry: sync again every enabled store whose last sync failed."""
    services.store_sync_failed(user=request.user, request=request)
    return redirect("appstore")


@admin_required
@require_POST
def lan_setting(request):
    form = LanSettingForm(request.POST)
    if form.is_valid():
        services.appstore_settings_update(
            user=request.user, request=request, allow_lan_stores=form.cleaned_data["allow_lan_stores"]
        )
        messages.success(request, _("Saved."))
    return redirect("appstore-stores")


@admin_required
@require_POST
def store_action(request, pk: int, action: str):
    """Sync, enable, disable or remove a store (buttons on the stores page)."""
    store = get_object_or_404(Store, pk=pk)
    if action == "sync":
        services.store_sync(store=store)
    elif action in ("enable", "disable"):
        services.store_set_enabled(user=request.user, store=store, enabled=action == "enable", request=request)
    elif action == "remove":
        services.store_delete(user=request.user, store=store, request=request)
        messages.success(request, _("Store removed."))
        return redirect("appstore-stores")
    else:
        raise Http404
    if request.htmx:
        return render(request, "appstore/partials/_store_row.html", {"s": store_state(store)})
    return redirect("appstore-stores")


@admin_required
@require_GET
def store_row(request, pk: int):
    """One store's row, polled while the websocket is down."""
    return render(request, "appstore/partials/_store_row.html", {"s": store_state(get_object_or_404(Store, pk=pk))})


@admin_required
@require_GET
def store_detail(request, pk: int):
    """A store's state and the apps it could not import, with the reasons."""
    store = get_object_or_404(Store, pk=pk)
    return render(request, "appstore/store_detail.html", {"store": store, "s": store_state(store)})
