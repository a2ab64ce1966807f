"""Forms of the account pages. Validation only; every change goes through a service."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from .models import APIToken, User

CODE_WIDGET = forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput, max_length=1024)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"), max_length=32, widget=CODE_WIDGET
    )


class NewPasswordMixin(forms.Form):
    """Two password fields checked against Django's validators."""

    password1 = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def password_user(self):
        return None

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first, self.password_user())
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SetupForm(NewPasswordMixin):
    token = forms.CharField(
        label=_("Setup token (printed on the server's console)"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    username = forms.CharField(
        label=_("Admin username"), max_length=150, initial="admin", validators=[User.username_validator]
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)

    field_order = ["token", "username", "email", "password1", "password2"]

    def password_user(self):
        return User(username=self.cleaned_data.get("username", ""), email=self.cleaned_data.get("email", ""))


class StepUpForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"), max_length=32, required=False, widget=CODE_WIDGET
    )


class PasswordChangeForm(NewPasswordMixin):
    old_password = forms.CharField(
        label=_("Current password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    field_order = ["old_password", "password1", "password2"]

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self):
        return self.user

    def clean_old_password(self):
        if not self.user.check_password(self.cleaned_data["old_password"]):
            raise forms.ValidationError(_("Your current password is not right."), code="wrong_password")
        return self.cleaned_data["old_password"]


class UserCreateForm(NewPasswordMixin):
    username = forms.CharField(label=_("Username"), max_length=150, validators=[User.username_validator])
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, initial=User.Role.MEMBER)

    field_order = ["username", "email", "role", "password1", "password2"]

    def clean_username(self):
        name = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(_("That username is taken."))
        return name

    def password_user(self):
        return User(username=self.cleaned_data.get("username", ""), email=self.cleaned_data.get("email", ""))


class UserEditForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    is_active = forms.BooleanField(label=_("Active (may log in)"), required=False)
    may_install_apps = forms.BooleanField(
        label=_("May install apps"),
        required=False,
        help_text=_(
            "Members: install apps that ask for no host access (those need an admin); the apps they install are "
            "theirs to see. Admins always may."
        ),
    )


class UserPasswordForm(NewPasswordMixin):
    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self):
        return self.user


class MFARemoveForm(StepUpForm):
    code = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"), max_length=32, widget=CODE_WIDGET
    )


EXPIRY_CHOICES = [
    ("", _("Never")),
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name (what uses it)"), max_length=100)
    scope = forms.ChoiceField(label=_("Scope"), choices=APIToken.Scope.choices, initial=APIToken.Scope.READ)
    expires_days = forms.TypedChoiceField(
        label=_("Expires"), choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=lambda: [("", _("The browser's language")), *settings.LANGUAGES],  # read when a form is made
        required=False,
        help_text=_("Pages, messages and the API answer in this language."),
    )


class SecurityForm(forms.Form):
    require_admin_mfa = forms.BooleanField(label=_("Require MFA for admins"), required=False)


class ThemeForm(forms.Form):
    theme = forms.ChoiceField(label=_("Theme"), choices=User.Theme.choices, widget=forms.RadioSelect)
