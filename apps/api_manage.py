"""REST endpoints for installed apps: control, live figures, logs, settings, updates, export, uninstall, grants,
foreign containers and custom apps. Members reach only apps granted to them; changes are for admins."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanInstall, IsAdmin, IsMember
from runtime.errors import EngineError

from .api import refusal_body, refusal_status
from .docker_run import DockerRunError, compose_from_run
from .selectors import app_state
from .selectors_manage import app_container_of, app_detail, app_get_for, app_history, app_stats, grants_of
from .serializers import consent_paths_field, override_limits_field
from .services.common import InstallError, engine
from .services.control import ACTIONS, app_control
from .services.export import app_export
from .services.foreign import foreign_adopt, foreign_control, foreign_list
from .services.install import MAX_COMPOSE, app_install
from .services.settings_edit import ServiceEdit, app_settings_change, service_settings
from .services.uninstall import app_remove
from .services.update import app_hold, app_update_all, app_update_check, app_update_start
from .services.visibility import app_grants_set
from .views_manage import log_lines


def refused(exc: InstallError) -> Response:
    """The refusal with its reason, its status by its code (api.refusal_status); policy refusals list findings."""
    return Response(refusal_body(exc, " ".join(exc.messages)), status=refusal_status(exc))


def accepted(event) -> Response:
    return Response(
        {"event": event.pk, "operation": event.operation, "app": event.installation_id}, status=status.HTTP_202_ACCEPTED
    )


class OperationSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    operation = serializers.CharField()
    app = serializers.IntegerField()


class ConsentSerializer(serializers.Serializer):
    consent = serializers.BooleanField(default=False, help_text="Allow host access the new version asks for.")
    consent_paths = consent_paths_field()


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
        child=ServiceEditSerializer(), required=False, help_text="Per service: only the keys to change."
    )
    compose = serializers.CharField(required=False, max_length=MAX_COMPOSE, help_text="A whole new compose document.")


class UninstallSerializer(serializers.Serializer):
    delete_data = serializers.BooleanField(
        default=False, help_text="Also delete the app's volumes and own folder (needs a step-up)."
    )


class HoldSerializer(serializers.Serializer):
    held = serializers.BooleanField()


class GrantsSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField())


class CustomSerializer(ConsentSerializer, LimitsOverrideSerializer):
    compose = serializers.CharField(required=False, max_length=MAX_COMPOSE)
    docker_run = serializers.CharField(required=False, max_length=64 * 1024, help_text="docker run commands")
    name = serializers.CharField(required=False, max_length=63, allow_blank=True)


class AdoptSerializer(ConsentSerializer, LimitsOverrideSerializer):
    name = serializers.CharField(required=False, max_length=63, allow_blank=True)


# ---------------------------------------------------------------------------- one app
class AppInfoView(APIView):
    """Containers (ports, mounts, env with secrets masked), state, operation, update state, history."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        detail = app_detail(inst=app_get_for(user=request.user, pk=pk), eng=engine())
        detail["history"] = [_event(e) for e in detail["history"]]
        return Response(detail)


class AppControlView(APIView):
    """POST start | stop | restart: 202 with the operation's id, 409 while another operation runs.

    Members may start an app granted to them; stop and restart are for admins."""

    permission_classes = [IsMember]

    @extend_schema(
        request=None,
        responses={202: OperationSerializer, 409: OpenApiResponse(description="busy")},
        operation_id="apps_control",
    )
    def post(self, request, pk: int, action: str):
        inst = app_get_for(user=request.user, pk=pk)
        if action not in ACTIONS:
            return Response({"detail": "unknown action"}, status=404)
        if action != "start" and not request.user.is_admin:
            return Response({"detail": IsAdmin.message}, status=403)
        try:
            return accepted(app_control(user=request.user, installation=inst, action=action, request=request))
        except InstallError as exc:
            return refused(exc)


class AppStatsView(APIView):
    """CPU (100 = one core) and memory of the app right now, summed and per service."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response(app_stats(inst=app_get_for(user=request.user, pk=pk), eng=engine()))


class AppLogsView(APIView):
    """The last `lines` log lines of one service (the live tail is the websocket /ws/apps/{id}/logs/)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("service", str, required=True), OpenApiParameter("lines", int)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        lines = log_lines(request.query_params.get("lines"), default=200)
        try:
            container = app_container_of(inst=inst, service=request.query_params.get("service", ""), eng=engine())
            return Response({"lines": list(engine().logs(container, tail=lines, timestamps=True))})
        except EngineError as exc:
            return Response({"detail": exc.message}, status=404)


class AppSettingsView(APIView):
    """GET the editable settings per service and the compose; POST changes (202; rolled back if the app fails)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        return Response({"services": service_settings(inst.compose), "compose": inst.compose})

    @extend_schema(request=SettingsSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edits = {name: ServiceEdit(**fields) for name, fields in (data.validated_data.get("services") or {}).items()}
        try:
            return accepted(
                app_settings_change(
                    user=request.user,
                    installation=inst,
                    edits=edits,
                    compose=data.validated_data.get("compose"),
                    consent=data.validated_data["consent"],
                    override_limits=data.validated_data["override_limits"],
                    consent_paths=data.validated_data["consent_paths"],
                    request=request,
                )
            )
        except InstallError as exc:
            return refused(exc)


class AppUpdateView(APIView):
    """POST: update now (202); pulls, recreates, waits healthy, rolls back on failure."""

    permission_classes = [IsAdmin]

    @extend_schema(request=ConsentSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return accepted(
                app_update_start(
                    user=request.user,
                    installation=inst,
                    consent=data.validated_data["consent"],
                    consent_paths=data.validated_data["consent_paths"],
                    request=request,
                )
            )
        except InstallError as exc:
            return refused(exc)


class AppUpdateCheckView(APIView):
    """GET the cached update state (checked periodically); POST checks now."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response(_update(app_update_check(installation=app_get_for(user=request.user, pk=pk))))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        try:
            state = app_update_check(installation=app_get_for(user=request.user, pk=pk), force=True)
        except EngineError as exc:
            return Response({"detail": exc.message}, status=503)
        return Response(_update(state))


class AppHoldView(APIView):
    """Hold the app at its version (no update, not in update-all) or release it."""

    permission_classes = [IsAdmin]

    @extend_schema(request=HoldSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = HoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = app_hold(
            user=request.user,
            installation=app_get_for(user=request.user, pk=pk),
            held=data.validated_data["held"],
            request=request,
        )
        return Response(_update(state))


class AppUpdateAllView(APIView):
    """Queue an update of every app that has one and is not held; lists what was queued and what was skipped."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        return Response(app_update_all(user=request.user, request=request), status=status.HTTP_202_ACCEPTED)


class AppExportView(APIView):
    """The app as one compose file that `docker compose up` accepts."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={(200, "application/yaml"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        response = HttpResponse(app_export(installation=inst), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{inst.name}-compose.yaml"'
        return response


class AppUninstallView(APIView):
    """Uninstall (202). Data stays unless delete_data, which needs a step-up (or a full-scope token)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=UninstallSerializer, responses={202: OperationSerializer})
    def post(self, request, pk: int):
        inst = app_get_for(user=request.user, pk=pk)
        data = UninstallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delete_data = data.validated_data["delete_data"]
        try:  # deleting data: the service answers "step-up needed" (403) unless the session or token is stepped up
            return accepted(app_remove(user=request.user, installation=inst, delete_data=delete_data, request=request))
        except InstallError as exc:
            return refused(exc)


class AppHistoryView(APIView):
    """The app's operations, newest first."""

    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return Response([_event(e) for e in app_history(inst=app_get_for(user=request.user, pk=pk), limit=100)])


class AppGrantsView(APIView):
    """Which members see the app (admins see all); PUT replaces the list."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=GrantsSerializer)
    def get(self, request, pk: int):
        return Response({"members": grants_of(inst=app_get_for(user=request.user, pk=pk))})

    @extend_schema(request=GrantsSerializer, responses=GrantsSerializer)
    def put(self, request, pk: int):
        data = GrantsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        members = app_grants_set(
            user=request.user,
            installation=app_get_for(user=request.user, pk=pk),
            member_ids=data.validated_data["members"],
            request=request,
        )
        return Response({"members": members})


# ---------------------------------------------------------------------------- custom apps, foreign containers
class CustomAppView(APIView):
    """Install a custom app from a compose document or `docker run` commands (202 with the app)."""

    permission_classes = [CanInstall]

    @extend_schema(request=CustomSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        data = CustomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        compose, run = data.validated_data.get("compose", ""), data.validated_data.get("docker_run", "")
        if bool(compose.strip()) == bool(run.strip()):
            return Response({"detail": _("Give exactly one of compose and docker_run.")}, status=400)
        try:
            compose = compose or compose_from_run(run)
            inst = app_install(
                user=request.user,
                compose=compose,
                name=data.validated_data.get("name") or None,
                consent=data.validated_data["consent"],
                override_limits=data.validated_data["override_limits"],
                consent_paths=data.validated_data["consent_paths"],
                request=request,
            )
        except DockerRunError as exc:
            return Response({"detail": str(exc), "code": "docker_run"}, status=400)
        except InstallError as exc:
            return refused(exc)
        return Response(app_state(inst), status=status.HTTP_202_ACCEPTED)


class ForeignListView(APIView):
    """Containers on the engine that are not our apps."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(
            [
                {"id": c.id, "name": c.name, "image": c.image, "state": c.state, "status": c.status}
                for c in foreign_list()
            ]
        )


class ForeignActionView(APIView):
    """POST start | stop | adopt one foreign container (adopt installs it as a custom app: 202)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=AdoptSerializer, responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def post(self, request, cid: str, action: str):
        try:
            if action == "adopt":
                data = AdoptSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                inst = foreign_adopt(
                    user=request.user,
                    container_id=cid,
                    name=data.validated_data.get("name", ""),
                    consent=data.validated_data["consent"],
                    override_limits=data.validated_data["override_limits"],
                    consent_paths=data.validated_data["consent_paths"],
                    request=request,
                )
                return Response(app_state(inst), status=status.HTTP_202_ACCEPTED)
            info = foreign_control(user=request.user, container_id=cid, action=action, request=request)
        except InstallError as exc:
            return refused(exc)
        except EngineError as exc:
            return Response({"detail": exc.message}, status=400)
        return Response({"id": info.id, "name": info.name, "state": info.state})


def _event(e) -> dict:
    return {
        "id": e.pk,
        "operation": e.operation,
        "outcome": e.outcome,
        "message": e.message,
        "user": e.user.get_username() if e.user else None,
        "at": e.created_at.isoformat(),
    }


def _update(state) -> dict:
    return {
        "available": state.available and not state.held,
        "held": state.held,
        "reason": state.reason,
        "checked_at": state.checked_at.isoformat() if state.checked_at else None,
        "remote_digests": state.remote_digests,
    }
