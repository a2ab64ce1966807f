"""Login (password, then OTP), logout, first-run setup and the step-up re-check."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.forms import CodeForm, LoginForm, SetupForm, StepUpForm
from accounts.permissions import MFA_PENDING_SESSION_KEY, member_required, request_mfa_satisfied
from accounts.selectors import admin_exists
from accounts.services.lockout import LockedOut
from accounts.services.login import login_finish, login_otp, login_password, stepup_confirm
from accounts.services.sessions import session_logout
from accounts.services.setup import SetupError, setup_complete

from .common import back_to, safe_next

# One message for an unknown user and a wrong password (SECURITY.md lesson 6).
WRONG = gettext_lazy("That username and password do not match.")


def refused(response, exc: LockedOut):
    """An attempt refused by a lock or an account's delay: 429, with Retry-After when the wait is known."""
    response.status_code = 429
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _next_step(request, user):
    """Where a password-only session goes: the OTP step, or the enrolment for admins made to use MFA."""
    if not request.session.get(MFA_PENDING_SESSION_KEY):
        return back_to(request)
    step = "login-otp" if user.mfa_enabled else "settings-mfa"
    return redirect(reverse(step) + "?" + urlencode({"next": safe_next(request)}))


@never_cache
@sensitive_post_parameters("password")
def login_view(request):
    """Log in with username and password (then the OTP step when the user has MFA)."""
    if request.user.is_authenticated and request_mfa_satisfied(request):
        return back_to(request)
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST":
        if form.is_valid():
            try:
                user = login_password(request=request, **form.cleaned_data)
            except LockedOut as exc:
                return refused(_login_page(request, form, exc.message), exc)
            if user is not None:
                return _next_step(request, user)
        error = WRONG
    return _login_page(request, form, error)


def _login_page(request, form, error):
    context = {"form": form, "error": error, "next": safe_next(request, "dashboard")}
    return render(request, "registration/login.html", context)


@require_POST
def logout_view(request):
    session_logout(request=request)
    return redirect("login")


@never_cache
@sensitive_post_parameters("code")
def otp_view(request):
    """The second login step: a TOTP code or a backup code."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request_mfa_satisfied(request) and request.user.is_verified():
        return back_to(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if login_otp(request=request, code=form.cleaned_data["code"]):
                return back_to(request)
        except LockedOut as exc:
            if exc.retry_after is None:  # locked: start again from the password, once the lock is over
                auth_logout(request)
                messages.error(request, exc.message)
                return redirect("login")
            form.add_error("code", exc.message)
            return refused(render(request, "accounts/otp.html", {"form": form, "next": safe_next(request)}), exc)
        form.add_error("code", _("That code is not right (or was already used)."))
    return render(request, "accounts/otp.html", {"form": form, "next": safe_next(request)})


@never_cache
@sensitive_post_parameters("token", "password1", "password2")
def setup_view(request):
    """First run: the setup token creates the first admin; afterwards this page does not exist."""
    if admin_exists():
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = setup_complete(
                request=request,
                token=data["token"],
                username=data["username"],
                password=data["password1"],
                email=data["email"],
            )
        except SetupError as exc:
            form.add_error("token", exc.message)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            login_finish(request=request, user=user, method="setup")
            messages.success(request, _("Welcome! Next, protect your account with a second factor (MFA)."))
            return redirect("settings-mfa")
    return render(request, "accounts/setup.html", {"form": form})


@never_cache
@member_required
@sensitive_post_parameters("password", "code")
def stepup_view(request):
    """Confirm the password (and a code) again before a dangerous action; valid for 15 minutes."""
    form = StepUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if stepup_confirm(request=request, **form.cleaned_data):
                return back_to(request, "settings")
            form.add_error(None, _("That password or code is not right."))
        except LockedOut as exc:
            form.add_error(None, exc.message)
            return refused(_stepup_page(request, form), exc)
    return _stepup_page(request, form)


def _stepup_page(request, form):
    return render(request, "accounts/stepup.html", {"form": form, "next": safe_next(request, "settings")})
