"""Forms of the Network page; the values are checked again by the services (network/checks.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import NetworkChange


class HostnameForm(forms.Form):
    hostname = forms.CharField(label=_("Host name"), max_length=253, help_text=_("The box's name on your network."))


class InterfaceForm(forms.Form):
    method = forms.ChoiceField(label=_("Address"), choices=NetworkChange.Method.choices, widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("Static address"), max_length=64, required=False, help_text=_("With its prefix, e.g. 192.168.1.20/24.")
    )
    gateway = forms.CharField(label=_("Gateway"), max_length=64, required=False, help_text=_("Your router."))
    dns = forms.CharField(
        label=_("Name servers"), max_length=200, required=False, help_text=_("Up to three, separated by commas.")
    )


class ConfirmForm(forms.Form):
    token = forms.CharField(label=_("Confirmation code"), max_length=100)
