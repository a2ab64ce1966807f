"""API shapes of the proxy."""

from rest_framework import serializers

from .models import AppAddress, ProxySettings

MODE_HELP = (
    "name: https://<name>.<domain>; path: https://<domain>/<name>/ on the admin's own address, only for apps that "
    "accept a base path (the app then shares the admin's origin)"
)


class ProxySettingsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="CASAOS_PROXY: whether this box runs Caddy at all")
    domain = serializers.CharField(help_text="as chosen; empty means <host name>.local")
    domain_in_use = serializers.CharField()
    certificate_mode = serializers.ChoiceField(choices=ProxySettings.CertificateMode.choices)
    acme_email = serializers.CharField()
    https = serializers.BooleanField()
    admin_url = serializers.CharField()
    root_certificate = serializers.BooleanField(help_text="the internal CA's root certificate can be downloaded")
    pushed_at = serializers.DateTimeField(allow_null=True)
    push_error = serializers.CharField()


class ProxySettingsPatchSerializer(serializers.Serializer):
    domain = serializers.CharField(required=False, allow_blank=True, max_length=200)
    certificate_mode = serializers.ChoiceField(choices=ProxySettings.CertificateMode.choices, required=False)
    acme_email = serializers.EmailField(required=False, allow_blank=True)
    https = serializers.BooleanField(required=False)


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="empty: the app has no address")
    mode = serializers.ChoiceField(choices=AppAddress.Mode.choices, help_text=MODE_HELP)
    require_login = serializers.BooleanField()
    public = serializers.BooleanField()
    url = serializers.CharField(read_only=True)
    web_port = serializers.IntegerField(read_only=True, allow_null=True)


class AddressPatchSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)  # checked by the service, with its reason
    mode = serializers.ChoiceField(choices=AppAddress.Mode.choices, required=False, help_text=MODE_HELP)
    require_login = serializers.BooleanField(required=False)
    public = serializers.BooleanField(required=False)
