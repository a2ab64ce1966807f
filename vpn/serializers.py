"""API shapes of the VPN: the server's settings, a device, and a new device's one-time configuration."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import VpnServer


class ServerSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    interface = serializers.CharField()
    address = serializers.CharField(help_text=_("The server's address and prefix: the range devices get addresses of."))
    listen_port = serializers.IntegerField()
    endpoint = serializers.CharField(help_text=_("Host name or address devices dial; empty: the address in use."))
    dns = serializers.CharField()
    routes = serializers.CharField()
    public_key = serializers.CharField()
    state = serializers.ChoiceField(choices=VpnServer.State.choices)
    error = serializers.CharField()
    kind = serializers.CharField(help_text=_("kernel or userspace (wireguard-go), as last applied."))
    applied_at = serializers.DateTimeField(allow_null=True)


class ServerWriteSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    address = serializers.CharField(required=False, max_length=64)
    listen_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    endpoint = serializers.CharField(required=False, allow_blank=True, max_length=253)
    dns = serializers.CharField(required=False, allow_blank=True, max_length=255)
    routes = serializers.CharField(required=False, allow_blank=True, max_length=512)


class PeerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.IPAddressField()
    public_key = serializers.CharField()
    created_at = serializers.DateTimeField()
    live = serializers.BooleanField(help_text=_("The live interface holds this device."))
    latest_handshake = serializers.IntegerField(allow_null=True, help_text=_("Seconds since the epoch; null: never."))
    endpoint = serializers.CharField()


class PeerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)


class PeerCreatedSerializer(PeerSerializer):
    config = serializers.CharField(help_text=_("The device's WireGuard file, with its private key: shown only now."))
    qr_svg = serializers.CharField(help_text=_("The same as a QR code (an SVG data: URI) for the phone app."))
    filename = serializers.CharField()
