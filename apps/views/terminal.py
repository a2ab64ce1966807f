"""A shell in one of an app's containers (the page; its socket is consumers/terminal.py)."""

from django.shortcuts import render

from accounts.middleware import csp_style_attributes
from accounts.permissions import admin_required, stepup_required
from apps.selectors import app_card, app_get_for, app_services


@admin_required
@stepup_required
@csp_style_attributes
def terminal(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    return render(request, "apps/terminal.html", {"card": app_card(inst), "services": app_services(inst=inst)})
