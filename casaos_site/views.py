"""Project-level pages: health, status and the pages whose feature arrives later."""

import sys

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from accounts.permissions import member_required

from .health import database_problem, engine_version, report_rows, report_shown, run_checks
from .i18n import shown


@require_GET
@never_cache
def healthz(request):
    """Machine-readable health: 200 when every component is ok, 503 when degraded."""
    report = report_shown(run_checks())
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_safe  # a read (GET, HEAD): POST, PUT and PATCH are 405, never a run of the checks
@member_required
@never_cache
def status_page(request):
    """The same checks for people, with the engine's version."""
    report = run_checks()
    return render(
        request, "system/status.html", {"report": report, "rows": report_rows(report), "engine": engine_version()}
    )


@member_required
def coming(request, title: str):
    return render(request, "coming.html", {"title": title})


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None):
    """The 403 handler: the styled page inside the layout; the API answers JSON."""
    if is_api(request):
        return JsonResponse({"detail": _("You may not do this."), "code": "permission_denied"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    """The 404 handler: the styled page inside the layout; the API answers JSON."""
    if is_api(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """The 500 handler (views, middleware, the API): a database that refuses writes or does not answer is a 503 that
    names it; the API always answers JSON."""
    problem = database_problem(sys.exc_info()[1])
    problem = shown(problem) if problem else None
    api = is_api(request)
    if problem is None:
        if api:
            return JsonResponse(
                {"detail": _("Server error; the log has the details."), "code": "server_error"}, status=500
            )
        return defaults.server_error(request)
    if api:
        return JsonResponse({"detail": problem, "code": "database"}, status=503)
    # Rendered without the request: its context processors would read the database again.
    return HttpResponse(render_to_string("503.html", {"problem": problem}), status=503)
