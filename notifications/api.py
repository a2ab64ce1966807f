"""REST endpoints of the notification centre: a person's own list, the rules (admins change them), channels, SMTP."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, IsMember, IsReadOrAdmin

from . import channels as channel_services
from . import services
from .models import Channel, Notification, SmtpSettings
from .push import push_keys
from .rules import EDITABLE
from .serializers import (
    ChannelChangeSerializer,
    ChannelSerializer,
    NotificationSerializer,
    RuleSerializer,
    SmtpSerializer,
    SmtpTestSerializer,
)


class NotificationListView(ListAPIView):
    """GET: the caller's own notifications, newest first (`?unread=1`: only the unread)."""

    serializer_class = NotificationSerializer
    permission_classes = [IsMember]

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="only the unread ones")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        unread = self.request.query_params.get("unread") in ("1", "true")
        return services.notifications_of(user=self.request.user, unread=unread)


class NotificationActionView(APIView):
    """POST: read, unread or dismiss one of the caller's own notifications (another's is a 404)."""

    permission_classes = [IsMember]
    verb = "read"

    @extend_schema(request=None, responses={200: NotificationSerializer, 204: None})
    def post(self, request, pk: int):
        try:
            if self.verb == "dismiss":
                services.notification_dismiss(user=request.user, pk=pk)
                return Response(status=status.HTTP_204_NO_CONTENT)
            note = services.notification_mark(user=request.user, pk=pk, read=self.verb == "read")
        except Notification.DoesNotExist:
            raise NotFound() from None
        return Response(NotificationSerializer(note).data)


class ReadAllView(APIView):
    """POST: mark every notification of the caller read."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses={200: OpenApiResponse(description='{"read": <how many>}')})
    def post(self, request):
        return Response({"read": services.notifications_read_all(user=request.user)})


class RulesView(APIView):
    """GET: the built-in rules with their settings. PUT [{key, enabled?, threshold?, cooldown_minutes?}]: admins."""

    permission_classes = [IsReadOrAdmin]

    @extend_schema(responses={200: RuleSerializer(many=True)})
    def get(self, request):
        return Response(rules_listed())

    @extend_schema(request=RuleSerializer(many=True), responses={200: RuleSerializer(many=True)})
    def put(self, request):
        data = RuleSerializer(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        services.rules_update(actor=request.user, changes=data.validated_data, request=request)
        return Response(rules_listed())


def rules_listed() -> list[dict]:
    """Every editable rule with its label and current settings (the API and the settings page)."""
    listed = []
    for spec in EDITABLE:
        rule = services.rule_get(spec.key)
        listed.append(
            {
                "key": spec.key,
                "label": str(spec.label),
                "enabled": rule.enabled,
                "threshold": rule.threshold,
                "threshold_label": str(spec.threshold_label),
                "cooldown_minutes": rule.cooldown_minutes,
            }
        )
    return listed


class ChannelsView(APIView):
    """GET: the caller's own channels. POST: add one (email, apprise (admins), webpush, or inapp's rules)."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: ChannelSerializer(many=True)})
    def get(self, request):
        channel_services.channel_inapp(user=request.user)
        return Response(ChannelSerializer(Channel.objects.filter(user=request.user), many=True).data)

    @extend_schema(request=ChannelSerializer, responses={201: ChannelSerializer})
    def post(self, request):
        data = ChannelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            channel = channel_services.channel_create(user=request.user, **data.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelView(APIView):
    """PATCH {rules?, enabled?}: change one of the caller's channels. DELETE: remove it."""

    permission_classes = [IsMember]

    @extend_schema(request=ChannelChangeSerializer, responses={200: ChannelSerializer})
    def patch(self, request, pk: int):
        data = ChannelChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            channel = channel_services.channel_update(channel=_own(request, pk), **data.validated_data)
        return Response(ChannelSerializer(channel).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        channel_services.channel_delete(channel=_own(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelTestView(APIView):
    """POST: queue a test message through one of the caller's channels; its result shows on the channel."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses={202: OpenApiResponse(description='{"delivery": <id>}')})
    def post(self, request, pk: int):
        delivery = channel_services.channel_test(channel=_own(request, pk))
        return Response({"delivery": delivery.pk}, status=status.HTTP_202_ACCEPTED)


def _own(request, pk: int) -> Channel:
    return get_object_or_404(Channel, pk=pk, user=request.user)


@contextmanager
def _refusals():
    """A service's refusal as the API's answer: 400 with the reason, 403 for what the caller may not do."""
    try:
        yield
    except channel_services.ChannelError as exc:
        raise ValidationError({"detail": str(exc)}) from None
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None


class SmtpView(APIView):
    """GET|PUT the SMTP server email goes through (admins; the password is never answered)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: SmtpSerializer})
    def get(self, request):
        return Response(SmtpSerializer(SmtpSettings.load()).data)

    @extend_schema(request=SmtpSerializer, responses={200: SmtpSerializer})
    def put(self, request):
        data = SmtpSerializer(SmtpSettings.load(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        smtp = channel_services.smtp_update(actor=request.user, values=data.validated_data, request=request)
        return Response(SmtpSerializer(smtp).data)


class SmtpTestView(APIView):
    """POST {to}: send a test mail now with the saved settings; 200 {"sent": true} or 400 with the server's answer."""

    permission_classes = [IsAdmin]

    @extend_schema(request=SmtpTestSerializer, responses={200: OpenApiResponse(description='{"sent": true}')})
    def post(self, request):
        data = SmtpTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        error = channel_services.smtp_test(to=data.validated_data["to"])
        if error:
            raise ValidationError({"detail": error})
        return Response({"sent": True})


class PushKeyView(APIView):
    """GET: this install's VAPID public key, which a browser subscribes with."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: OpenApiResponse(description='{"public_key": "<base64url>"}')})
    def get(self, request):
        return Response({"public_key": push_keys().public_key})
