"""An app's logs: the live tail page (its socket is consumers/logs.py) and the last lines as a file."""

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from accounts.permissions import admin_required
from apps.selectors import app_card, app_container_of, app_get_for, app_services
from apps.services.common import engine_for, engine_said
from runtime.errors import EngineError


def log_lines(value: str | None, *, default: int) -> int:
    """A line count from a query string, kept between 1 and APPS_LOG_TAIL_MAX (garbage means the default)."""
    try:
        return max(1, min(int(value or default), settings.APPS_LOG_TAIL_MAX))
    except ValueError:
        return default


@admin_required
def logs(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    return render(
        request,
        "apps/logs.html",
        {"card": app_card(inst), "services": app_services(inst=inst), "max_lines": settings.APPS_LOG_TAIL_MAX},
    )


@admin_required
def logs_download(request, pk: int):
    """The last N lines of one service as a text file."""
    inst = app_get_for(user=request.user, pk=pk)
    service = request.GET.get("service", "")
    lines = log_lines(request.GET.get("lines"), default=1000)
    try:
        eng = engine_for(inst)
        container = app_container_of(inst=inst, service=service, eng=eng)
        stream = eng.logs(container, tail=lines, timestamps=True)
    except EngineError as exc:
        return HttpResponse(engine_said(exc), status=404, content_type="text/plain")
    response = StreamingHttpResponse((line + "\n" for line in stream), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{inst.name}-{service}.log"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
