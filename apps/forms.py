"""The custom-install form: a compose document, an optional name and variables, and consent when it is needed."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.permissions import user_is_admin

from .services.install import MAX_COMPOSE

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def override_limits_field() -> forms.BooleanField:
    """The admin's explicit "allow more than this machine has" (the API's override_limits), audited when used."""
    return forms.BooleanField(
        label=_("Allow more than this machine has"),
        required=False,
        help_text=_("Memory, shared memory, CPUs or processes above what this machine has. The audit log records it."),
    )


def limits_offered(user, form: forms.Form, code: str = "") -> bool:
    """The override box shows to an admin once a request went over the machine's resources, and while it is ticked."""
    return user_is_admin(user) and (code == "limits" or bool(form.data.get("override_limits")))


class InstallForm(forms.Form):
    """What the page asks; the install service does every real check."""

    compose = forms.CharField(
        label=_("Compose document"),
        max_length=MAX_COMPOSE,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
    )
    name = forms.CharField(
        label=_("App name"),
        max_length=63,
        required=False,
        help_text=_("Lowercase letters, digits, '-' and '_'. Leave empty to derive it."),
    )
    inputs = forms.CharField(
        label=_("Variables"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "spellcheck": "false", "class": "code", "placeholder": "TZ=Europe/Berlin"}
        ),
        help_text=_("One NAME=value per line; the compose document sees them as ${NAME}."),
    )
    consent = forms.BooleanField(label=_("I understand and allow this access"), required=False)
    override_limits = override_limits_field()

    def clean_inputs(self) -> dict[str, str]:
        result = {}
        for number, line in enumerate(self.cleaned_data["inputs"].splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LINE.match(line)
            if not match:
                raise forms.ValidationError(_("Line %(n)s is not NAME=value."), params={"n": number})
            result[match.group(1)] = match.group(2).strip()
        return result
