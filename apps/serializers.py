"""API shapes: the install request, and the app state every endpoint and websocket shares."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casaos_site.i18n import ShownField

from .services.install import MAX_COMPOSE


def consent_paths_field() -> serializers.ListField:
    """Explicit host access: consent alone never gives an app our own data, code or the container engine's."""
    return serializers.ListField(
        child=serializers.CharField(max_length=4096),
        required=False,
        default=list,
        max_length=64,
        help_text=_(
            "Each host path of our own data, code or the container engine the app may have, named "
            "(with consent and a step-up)."
        ),
    )


def override_limits_field() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Admins only: allow resource requests above this machine (memory, swap, shm, CPUs, process limit); "
            "recorded in the audit log."
        ),
    )


class PlacementSerializer(serializers.Serializer):
    """Where the app runs: this box (the default), or the swarm this box manages (fixed at install)."""

    where = serializers.ChoiceField(
        choices=["local", "any", "node", "label"],
        default="local",
        help_text=_(
            "local: this box, as always; any: any machine of the swarm; node: the machine named by `node`; "
            "label: machines with the label `label`. Anything but local needs this box to be a swarm manager."
        ),
    )
    node = serializers.CharField(
        required=False, max_length=128, help_text=_("where=node: the node's id (or hostname) from GET /api/nodes/")
    )
    label = serializers.CharField(
        required=False, max_length=129, help_text=_("where=label: key=value, e.g. disk=ssd (letters, digits, . _ -)")
    )


def placement_field() -> PlacementSerializer:
    return PlacementSerializer(
        required=False, help_text=_("Where the app runs; omitted: this box. Changing it later means reinstalling.")
    )


class FindingSerializer(serializers.Serializer):
    """One value of the engine payload outside the container policy's allowlist."""

    level = serializers.ChoiceField(choices=["refused", "host_access"])
    code = serializers.CharField()
    key = serializers.CharField(help_text=_("where in the engine payload, e.g. HostConfig.Binds"))
    value = serializers.CharField()
    reason = serializers.CharField()
    service = serializers.CharField()
    explicit = serializers.BooleanField(help_text=_("given only when named in consent_paths"))


class InstallRequestSerializer(serializers.Serializer):
    """POST /api/apps/: a compose document, optionally a name, variables and consent to flagged host access."""

    compose = serializers.CharField(max_length=MAX_COMPOSE, trim_whitespace=False)
    name = serializers.CharField(max_length=63, required=False, allow_blank=True)
    inputs = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    consent = serializers.BooleanField(required=False, default=False)
    override_limits = override_limits_field()
    consent_paths = consent_paths_field()
    placement = placement_field()


class ImageProgressSerializer(serializers.Serializer):
    image = serializers.CharField()
    current = serializers.IntegerField(help_text=_("bytes downloaded"))
    total = serializers.IntegerField(help_text=_("bytes announced so far"))
    layers = serializers.IntegerField()
    layers_done = serializers.IntegerField()
    done = serializers.BooleanField()
    percent = serializers.FloatField()


class ProgressSerializer(serializers.Serializer):
    percent = serializers.FloatField()
    current = serializers.IntegerField()
    total = serializers.IntegerField()
    images = ImageProgressSerializer(many=True)
    timings = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=(
            "milliseconds each step of the finished install took: queued (until a worker took it), pulling, "
            "creating, starting, ready (health checks and the web port)"
        ),
    )


class StepSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "current", "todo", "stopped"])


class RestartLoopSerializer(serializers.Serializer):
    service = serializers.CharField()
    exit_code = serializers.IntegerField(allow_null=True, help_text=_("its last exit code"))
    log = serializers.CharField(help_text=_("its last log line"))
    restarts = serializers.IntegerField(help_text=_("restarts the engine counted before it was stopped"))
    at = serializers.DateTimeField(help_text=_("when it was stopped"))


class AppStateSerializer(serializers.Serializer):
    """What GET /api/apps/{id}/ returns and what /ws/apps/{id}/?format=json streams as `data`."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    title = serializers.CharField()
    source = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    in_progress = serializers.BooleanField()
    settled = serializers.BooleanField(help_text=_("installed: running, stopped or partly running"))
    cancel_requested = serializers.BooleanField()
    operation = serializers.CharField(help_text=_('the operation running on the app now (start, update...), or ""'))
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("what may be asked now: open, start, stop, restart, update, settings, remove, retry, cancel"),
    )
    detail = ShownField(help_text=_("what it is doing now, in your language"))
    error = ShownField(help_text=_("how the last install or operation failed, in your language"))
    restart_loop = RestartLoopSerializer(
        many=True,
        help_text=(
            "services stopped because they kept restarting (restarting repeatedly): start the app to try again; "
            "empty otherwise"
        ),
    )
    web_port = serializers.IntegerField(allow_null=True)
    placement = serializers.DictField(
        child=serializers.CharField(), help_text=_("where it runs: {} for this box, else as asked at install")
    )
    steps = StepSerializer(many=True)
    progress = ProgressSerializer()
    updated_at = serializers.DateTimeField(allow_null=True)


class InstallAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField(help_text=_("GET this for status and progress"))
    web_port = serializers.IntegerField(allow_null=True, help_text=_("the host port its web interface will answer on"))
    websocket = serializers.CharField(help_text=_("the same events as JSON: connect with ?format=json"))


class OperationSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    operation = serializers.CharField()
    app = serializers.IntegerField()


class ConsentSerializer(serializers.Serializer):
    consent = serializers.BooleanField(default=False, help_text=_("Allow host access the new version asks for."))
    consent_paths = consent_paths_field()


class UpdateSerializer(ConsentSerializer):
    backup = serializers.BooleanField(
        default=True, help_text=_("Back up the app's data first (to the repository chosen for updates).")
    )


class ServiceEditSerializer(serializers.Serializer):
    env = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    ports = serializers.ListField(child=serializers.CharField(), required=False)
    volumes = serializers.ListField(child=serializers.CharField(), required=False)
    restart = serializers.CharField(required=False)
    cpus = serializers.CharField(required=False, allow_blank=True)
    memory = serializers.CharField(required=False, allow_blank=True)


class LimitsOverrideSerializer(serializers.Serializer):
    override_limits = override_limits_field()


class SettingsSerializer(ConsentSerializer, LimitsOverrideSerializer):
    services = serializers.DictField(
        child=ServiceEditSerializer(), required=False, help_text=_("Per service: only the keys to change.")
    )
    compose = serializers.CharField(
        required=False, max_length=MAX_COMPOSE, help_text=_("A whole new compose document.")
    )


class UninstallSerializer(serializers.Serializer):
    delete_data = serializers.BooleanField(
        default=False, help_text=_("Also delete the app's volumes and own folder (needs a step-up).")
    )


class HoldSerializer(serializers.Serializer):
    held = serializers.BooleanField()


class GrantsSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField())


class CustomSerializer(ConsentSerializer, LimitsOverrideSerializer):
    compose = serializers.CharField(required=False, max_length=MAX_COMPOSE)
    docker_run = serializers.CharField(required=False, max_length=64 * 1024, help_text=_("docker run commands"))
    name = serializers.CharField(required=False, max_length=63, allow_blank=True)
    placement = placement_field()


class AdoptSerializer(ConsentSerializer, LimitsOverrideSerializer):
    name = serializers.CharField(required=False, max_length=63, allow_blank=True)
