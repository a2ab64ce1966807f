"""Project-level pages: health, status and the pages whose feature arrives later."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import member_required

from .health import engine_version, run_checks


@require_GET
@never_cache
def healthz(request):
    """Machine-readable health: 200 when every component is ok, 503 when degraded."""
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@member_required
@never_cache
def status_page(request):
    """The same checks for people, with the engine's version."""
    return render(request, "system/status.html", {"report": run_checks(), "engine": engine_version()})


@member_required
def coming(request, title: str):
    return render(request, "coming.html", {"title": title})
