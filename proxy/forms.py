"""Forms of the proxy's pages; the checks that matter live in proxy/services.py (the API shares them)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AppAddress, ProxySettings


class ProxySettingsForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        required=False,
        max_length=200,
        help_text=_("Apps are reached at <app>.<domain>. Empty: the box's name on the LAN (<host name>.local)."),
    )
    certificate_mode = forms.ChoiceField(label=_("Certificates"), choices=ProxySettings.CertificateMode.choices)
    acme_email = forms.EmailField(label=_("Contact e-mail for Let's Encrypt"), required=False)
    https = forms.BooleanField(label=_("Serve over HTTPS"), required=False)


class AddressForm(forms.Form):
    name = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=63,
        help_text=_("Letters, digits and hyphens. Empty: the app has no address."),
    )
    mode = forms.ChoiceField(
        label=_("Reached"), choices=AppAddress.Mode.choices, required=False, widget=forms.RadioSelect
    )
    require_login = forms.BooleanField(label=_("Require login (our login, before the app's own)"), required=False)
    public = forms.BooleanField(label=_("Reachable from the internet, not only the LAN"), required=False)

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or AppAddress.Mode.NAME
