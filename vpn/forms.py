from django import forms
from django.utils.translation import gettext_lazy as _


class ServerForm(forms.Form):
    enabled = forms.BooleanField(label=_("VPN on"), required=False)
    address = forms.CharField(
        label=_("Address range"),
        max_length=64,
        help_text=_("The box's address in the VPN and its prefix, e.g. 10.77.0.1/24."),
    )
    listen_port = forms.IntegerField(label=_("Listen port (UDP)"), min_value=1, max_value=65535)
    endpoint = forms.CharField(
        label=_("Public address"),
        max_length=253,
        required=False,
        help_text=_(
            "The host name or address devices dial from outside; forward its UDP port on your router. Empty: the address you use now."
        ),
    )
    dns = forms.CharField(label=_("DNS servers for devices"), max_length=255, required=False,
                          help_text=_("Comma-separated addresses; empty: devices keep their own."))  # fmt: skip
    routes = forms.CharField(label=_("Extra routes"), max_length=512, required=False,
                             help_text=_("Comma-separated networks devices reach through the tunnel besides the VPN's own, e.g. your home network."))  # fmt: skip


class PeerForm(forms.Form):
    name = forms.CharField(
        label=_("Device name"), max_length=80, widget=forms.TextInput(attrs={"placeholder": _("Anna's phone")})
    )
