"""API shapes of the nodes: the swarm's state, a node, the join tokens, and what a change asks for."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from runtime.swarm.model import AVAILABILITIES, ROLES

from .models import SwarmInit
from .services import LABEL_VALUE_MAX


class SwarmStateSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text=_("This box's engine is in a swarm."))
    manager = serializers.BooleanField(help_text=_("It manages that swarm (nodes and tokens need a manager)."))
    node_id = serializers.CharField()
    addr = serializers.CharField(help_text=_("The address the swarm reaches this box at."))
    cluster_id = serializers.CharField()
    error = serializers.CharField()
    local_state = serializers.CharField(help_text=_("inactive, pending, active, error or locked."))


class InitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    advertise_addr = serializers.CharField()
    state = serializers.ChoiceField(choices=SwarmInit.State.choices)
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class NodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    hostname = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLES)
    availability = serializers.CharField(help_text=_("active, pause or drain."))
    state = serializers.CharField(help_text=_("ready, down, unknown or disconnected."))
    addr = serializers.CharField()
    engine_version = serializers.CharField()
    cpus = serializers.FloatField()
    memory = serializers.IntegerField(help_text=_("Bytes."))
    labels = serializers.DictField(child=serializers.CharField())
    leader = serializers.BooleanField()
    current = serializers.BooleanField(help_text=_("The node this box's engine is."))
    message = serializers.CharField()


class OverviewSerializer(serializers.Serializer):
    swarm = SwarmStateSerializer()
    init = InitSerializer(allow_null=True, help_text=_("The newest request to make this box a manager."))
    addresses = serializers.ListField(
        child=serializers.CharField(), help_text=_("This box's addresses: the choices for advertise_addr.")
    )
    nodes = NodeSerializer(many=True, help_text=_("Empty unless this box manages the swarm."))


class InitRequestSerializer(serializers.Serializer):
    advertise_addr = serializers.CharField(
        max_length=64, help_text=_("One of this box's addresses (GET /api/nodes/ lists them).")
    )


class JoinSerializer(serializers.Serializer):
    worker_token = serializers.CharField()
    manager_token = serializers.CharField()
    manager_addr = serializers.CharField()
    worker_command = serializers.CharField(help_text=_("Run on a machine to join it as a worker."))
    manager_command = serializers.CharField(help_text=_("Run on a machine to join it as a manager."))


class RotateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)


class LabelTextField(serializers.CharField):
    """A label's value as sent: a string, untrimmed (the service's check refuses what it may not hold)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class NodeUpdateSerializer(serializers.Serializer):
    availability = serializers.ChoiceField(choices=AVAILABILITIES, required=False)
    labels = serializers.DictField(
        child=LabelTextField(max_length=LABEL_VALUE_MAX),
        required=False,
        help_text=_(
            "Replaces every label. Keys (up to 64 characters) and values (up to 128): letters, digits, '.', '_', '-'."
        ),
    )


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
