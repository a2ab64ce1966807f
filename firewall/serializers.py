"""The shape of GET /api/firewall/ (documented in the schema; the data comes from selectors.firewall_overview)."""

from rest_framework import serializers

ACCESS = [("lan", "LAN only"), ("public", "anyone")]


class FirewallAdminPortSerializer(serializers.Serializer):
    protocol = serializers.CharField()
    port = serializers.IntegerField()
    access = serializers.ChoiceField(choices=ACCESS)


class FirewallOpeningSerializer(FirewallAdminPortSerializer):
    app = serializers.CharField(help_text="the app's name")
    app_id = serializers.IntegerField()
    title = serializers.CharField()


class FirewallSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="CASAOS_FIREWALL is set")
    state = serializers.ChoiceField(
        choices=["off", "enforced", "pending", "error"],
        help_text="off: every port is open to whoever reaches the box; enforced: our nftables table is loaded",
    )
    error = serializers.CharField(allow_blank=True)
    lan = serializers.ListField(child=serializers.CharField(), help_text="the networks that count as the LAN")
    admin = FirewallAdminPortSerializer(many=True)
    ports = FirewallOpeningSerializer(many=True)
