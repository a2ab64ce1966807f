"""Admin pages: users (create, role, disable, reset password, unlock, remove MFA, delete), security, audit log."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.forms import SecurityForm, UserCreateForm, UserEditForm, UserPasswordForm
from accounts.models import User
from accounts.permissions import admin_required, stepup_required
from accounts.services.lockout import lockout_clear
from accounts.services.mfa import admin_mfa_requirement_set, mfa_remove
from accounts.services.users import LastAdminError, user_create, user_delete, user_password_reset, user_update

from .account import page

LAST_ADMIN = LastAdminError.message


@never_cache
@admin_required
def users_index(request):
    """Everyone who may log in, with role, state and lockout."""
    return page(request, "users.html", {"users": selectors.users_with_state(), "form": UserCreateForm()})


@require_POST
@admin_required
@stepup_required
@sensitive_post_parameters("password1", "password2")
def user_create_view(request):
    form = UserCreateForm(request.POST)
    if not form.is_valid():
        return page(request, "users.html", {"users": selectors.users_with_state(), "form": form}, status=400)
    data = form.cleaned_data
    user_create(
        actor=request.user,
        request=request,
        username=data["username"],
        password=data["password1"],
        role=data["role"],
        email=data["email"],
    )
    messages.success(request, _("User %(name)s created.") % {"name": data["username"]})
    return redirect("settings-users")


def _user_page(request, user, *, edit=None, password=None, status=200):
    initial = {"email": user.email, "role": user.role, "is_active": user.is_active}
    edit = edit or UserEditForm(initial={**initial, "may_install_apps": user.may_install_apps})
    return page(
        request,
        "user.html",
        {
            "subject": user,
            "edit": edit,
            "password_form": password or UserPasswordForm(user),
            "locks": selectors.account_locks(user.username),
        },
        status=status,
    )


@never_cache
@admin_required
def user_detail(request, pk: int):
    """One user: edit role and state, reset the password, unlock, remove MFA, delete."""
    user = get_object_or_404(User, pk=pk)
    if request.method != "POST":
        return _user_page(request, user)
    return _user_update(request, user)


@stepup_required
def _user_update(request, user):
    form = UserEditForm(request.POST)
    if not form.is_valid():
        return _user_page(request, user, edit=form, status=400)
    try:
        user_update(actor=request.user, request=request, user=user, **form.cleaned_data)
    except LastAdminError:
        messages.error(request, LAST_ADMIN)
        return _user_page(request, user, edit=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("settings-user", pk=user.pk)


@require_POST
@admin_required
@stepup_required
@sensitive_post_parameters("password1", "password2")
def user_password(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = UserPasswordForm(user, request.POST)
    if not form.is_valid():
        return _user_page(request, user, password=form, status=400)
    user_password_reset(actor=request.user, request=request, user=user, password=form.cleaned_data["password1"])
    messages.success(request, _("New password set; %(name)s's sessions ended.") % {"name": user.username})
    return redirect("settings-user", pk=user.pk)


@require_POST
@admin_required
@stepup_required
def user_delete_view(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    if user == request.user:
        messages.error(request, _("You cannot delete your own account."))
        return redirect("settings-user", pk=pk)
    try:
        user_delete(actor=request.user, request=request, user=user)
    except LastAdminError:
        messages.error(request, LAST_ADMIN)
        return redirect("settings-user", pk=pk)
    messages.success(request, _("User %(name)s deleted.") % {"name": user.username})
    return redirect("settings-users")


@require_POST
@admin_required
def user_unlock(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    lockout_clear(username=user.username, actor=request.user, request=request)
    messages.success(request, _("%(name)s can log in again.") % {"name": user.username})
    return redirect("settings-user", pk=pk)


@require_POST
@admin_required
@stepup_required
def user_mfa_remove(request, pk: int):
    """Recovery for a lost phone: the admin removes someone's MFA; they enrol again at their next login."""
    user = get_object_or_404(User, pk=pk)
    mfa_remove(user=user, actor=request.user, request=request)
    messages.success(request, _("MFA removed for %(name)s.") % {"name": user.username})
    return redirect("settings-user", pk=pk)


@never_cache
@admin_required
def security_view(request):
    """Site-wide security settings."""
    if request.method == "POST":
        return _security_update(request)
    form = SecurityForm(initial={"require_admin_mfa": selectors.admin_mfa_required()})
    return page(request, "security.html", {"form": form, "explicit": selectors.site_security().require_admin_mfa})


@stepup_required
def _security_update(request):
    form = SecurityForm(request.POST)
    if form.is_valid():
        admin_mfa_requirement_set(required=form.cleaned_data["require_admin_mfa"], actor=request.user, request=request)
        messages.success(request, _("Saved."))
    return redirect("settings-security")


@never_cache
@admin_required
def audit_view(request):
    """The audit log, newest first; filter by action prefix or actor."""
    action, actor = request.GET.get("action", "")[:64], request.GET.get("actor", "")[:150]
    return page(
        request,
        "audit.html",
        {"events": selectors.audit_events(action=action, actor=actor), "action": action, "actor": actor},
    )
