from rest_framework import serializers

from .models import NetworkChange


class HostnameSerializer(serializers.Serializer):
    hostname = serializers.CharField(max_length=253)


class InterfaceChangeSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=NetworkChange.Method.choices)
    address = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    gateway = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    dns = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list, max_length=3)


class ConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100)
