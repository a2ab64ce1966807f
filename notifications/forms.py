"""Forms of the notification settings page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SmtpSettings
from .rules import EDITABLE


def rule_choices() -> list[tuple[str, str]]:
    return [(spec.key, spec.label) for spec in EDITABLE]


class EmailChannelForm(forms.Form):
    address = forms.EmailField(label=_("Email address"))


class AppriseChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    url = forms.CharField(
        label=_("Apprise URL"),
        max_length=2000,
        help_text=_("For example ntfys://ntfy.sh/my-topic, tgram://bot-token/chat-id or json://host/path"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ChannelRulesForm(forms.Form):
    rules = forms.MultipleChoiceField(
        label=_("Rules"), required=False, widget=forms.CheckboxSelectMultiple, choices=rule_choices
    )


class SmtpForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Left empty, the saved password is kept."),
    )

    class Meta:
        model = SmtpSettings
        fields = ["host", "port", "security", "username", "sender"]


class SmtpTestForm(forms.Form):
    to = forms.EmailField(label=_("Send a test mail to"))
