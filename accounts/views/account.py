"""The user's own settings: account and password, MFA, API tokens, sessions."""

from base64 import b32encode
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.forms import CodeForm, LanguageForm, MFARemoveForm, PasswordChangeForm, ThemeForm, TokenForm
from accounts.net import client_address
from accounts.permissions import member_required, request_mfa_satisfied, stepup_required
from accounts.qr import qr_data_uri
from accounts.services.language import user_language_set
from accounts.services.lockout import Attempt, LockedOut, lockout_failure, lockout_refusal
from accounts.services.login import credentials_confirm
from accounts.services.mfa import backup_codes_regenerate, mfa_remove, totp_enrol_confirm, totp_enrol_start
from accounts.services.preferences import theme_set
from accounts.services.sessions import session_end
from accounts.services.tokens import api_token_create, api_token_revoke
from accounts.services.users import password_change

from .auth import refused


def page(request, template: str, context: dict, status: int = 200):
    """Render a settings page with its side navigation."""
    return render(
        request, f"accounts/settings/{template}", {"section": template.removesuffix(".html"), **context}, status=status
    )


@never_cache
@member_required
@sensitive_post_parameters("old_password", "password1", "password2")
def settings_index(request):
    """Account overview and password change."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        # The current password is checked here too: it gets the login's locks and delays.
        refusal = lockout_refusal(attempt=Attempt(request.user.get_username(), client_address(request)))
        if refusal is not None:
            messages.error(request, refusal.message)
            return redirect("settings")
        if form.is_valid():
            ended, revoked = password_change(
                user=request.user, password=form.cleaned_data["password1"], request=request
            )
            messages.success(
                request,
                _("Password changed. %(n)d other session(s) ended, %(t)d API token(s) revoked.")
                % {"n": ended, "t": revoked},
            )
            return redirect("settings")
        if form.has_error("old_password", "wrong_password"):
            lockout_failure(
                username=request.user.get_username(),
                address=client_address(request),
                request=request,
                action="password.change_failure",
            )
    return page(request, "account.html", account_context(request, form=form))


def account_context(request, **forms) -> dict:
    """The account page's forms (a form that failed keeps its input and errors)."""
    forms.setdefault("form", PasswordChangeForm(request.user))
    forms.setdefault("theme_form", ThemeForm(initial={"theme": request.user.theme}))
    forms.setdefault("language_form", LanguageForm(initial={"language": request.user.language}))
    return {**forms, "mfa_required": selectors.mfa_required_for(request.user)}


@never_cache
@member_required
@require_POST
def settings_theme(request):
    """Save the user's theme (system, light or dark); the next page renders in it."""
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return page(request, "account.html", account_context(request, theme_form=form), status=400)
    theme_set(user=request.user, theme=form.cleaned_data["theme"])
    messages.success(request, _("Theme saved."))
    return redirect("settings")


@require_POST
@member_required
def settings_language(request):
    """Save the user's language; the cookie keeps it on the login page after logging out."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return redirect("settings")
    user_language_set(user=request.user, language=form.cleaned_data["language"])
    response = redirect("settings")
    _language_cookie_set(response, form.cleaned_data["language"])
    return response


def _language_cookie_set(response, language: str) -> None:
    if not language:  # "the browser's language": no cookie may pin another one
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@never_cache
def settings_mfa(request):
    """MFA: enrol (QR code + manual key, confirmed by a first code), backup codes, removal."""
    # Reached by admins who must enrol before anything else, so it checks the login itself (not member_required).
    if not request.user.is_authenticated:
        return redirect("login")
    user = request.user
    if user.mfa_enabled and not request_mfa_satisfied(request):
        return redirect("login-otp")
    form = CodeForm(request.POST or None)
    codes, refusal = None, None
    if request.method == "POST" and not user.mfa_enabled and form.is_valid():
        try:
            codes = totp_enrol_confirm(request=request, user=user, code=form.cleaned_data["code"])
        except LockedOut as exc:
            form.add_error("code", exc.message)
            refusal = exc
        else:
            if codes is None:
                form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    response = page(request, "mfa.html", _mfa_context(user, form, codes))
    return refused(response, refusal) if refusal else response


def _mfa_context(user, form, codes) -> dict:
    context = {
        "form": form,
        "codes": codes,
        "codes_left": selectors.backup_codes_left(user),
        "remove_form": MFARemoveForm(),
    }
    if not user.mfa_enabled:
        device = totp_enrol_start(user=user)
        context.update(
            device=device,
            key=b32encode(device.bin_key).decode(),
            qr=qr_data_uri(device.config_url),
            forced=selectors.mfa_required_for(user),
        )
    return context


@require_POST
@member_required
@stepup_required
def settings_mfa_codes(request):
    """New backup codes (the old ones stop working); shown once."""
    codes = backup_codes_regenerate(user=request.user, request=request)
    return page(request, "mfa.html", {"codes": codes, "codes_left": len(codes), "remove_form": MFARemoveForm()})


@require_POST
@member_required
@sensitive_post_parameters("password", "code")
def settings_mfa_remove(request):
    """Remove MFA after the password and a current code are entered again."""
    user = request.user
    form = MFARemoveForm(request.POST)
    ok = False
    if form.is_valid() and user.mfa_enabled:
        try:
            ok = credentials_confirm(request=request, action="mfa.remove_failure", **form.cleaned_data)
        except LockedOut as exc:
            messages.error(request, exc.message)
            return redirect("settings-mfa")
    if not ok:
        messages.error(request, _("MFA stays on: the password or the code was not right."))
        return redirect("settings-mfa")
    if selectors.mfa_required_for(user) and user.is_admin:
        messages.error(request, _("Admins must use MFA here; an admin can switch that requirement off first."))
        return redirect("settings-mfa")
    mfa_remove(user=user, actor=user, request=request)
    messages.success(request, _("MFA removed."))
    return redirect("settings-mfa")


@never_cache
@member_required
def settings_tokens(request):
    """The user's API tokens; a new token is shown once, right after creation."""
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_days"]
        expires = timezone.now() + timedelta(days=days) if days else None
        _row, created = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=expires,
            request=request,
        )
        form = TokenForm()
    return page(
        request,
        "tokens.html",
        {"form": form, "created": created, "tokens": selectors.user_tokens(request.user), "now": timezone.now()},
    )


@require_POST
@member_required
def settings_token_revoke(request, pk: int):
    token = get_object_or_404(selectors.user_tokens(request.user), pk=pk)
    api_token_revoke(token=token, actor=request.user, request=request)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("settings-tokens")


@never_cache
@member_required
def settings_sessions(request):
    """Where the user is logged in; any other session can be ended."""
    return page(
        request,
        "sessions.html",
        {"sessions": selectors.user_sessions(request.user), "current": request.session.session_key},
    )


@require_POST
@member_required
def settings_session_end(request, pk: int):
    row = get_object_or_404(request.user.tracked_sessions, pk=pk)
    session_end(user=request.user, session_key=row.session_key, request=request)
    if row.session_key == request.session.session_key:
        return redirect("login")
    messages.success(request, _("Session ended."))
    return redirect("settings-sessions")
