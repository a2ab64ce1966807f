"""REST endpoints: the current user, API tokens, sessions, and for admins users and the audit log."""

from django.contrib.auth.password_validation import validate_password
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .models import APIToken, User
from .permissions import IsAdmin, IsMember, StepUpRequired, request_token
from .serializers import (
    AuditEventSerializer,
    PreferencesSerializer,
    SessionSerializer,
    TokenSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from .services.language import user_language_set
from .services.lockout import lockout_clear
from .services.preferences import theme_set
from .services.sessions import session_end
from .services.tokens import api_token_create, api_token_revoke
from .services.users import LastAdminError, user_create, user_delete, user_password_reset, user_update


class MeView(APIView):
    """Who the request is authenticated as; PATCH changes your own preferences (theme)."""

    permission_classes = [IsMember]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        data = UserSerializer(request.user).data
        token = request_token(request)
        data["token_scope"] = token.scope if token else None
        return Response(data)

    @extend_schema(request=PreferencesSerializer, responses=UserSerializer)
    def patch(self, request):
        """Change your own preferences: `language` ("" = follow Accept-Language) and `theme`."""
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "language" in serializer.validated_data:
            user_language_set(user=request.user, language=serializer.validated_data["language"])
        if "theme" in serializer.validated_data:
            theme_set(user=request.user, theme=serializer.validated_data["theme"])
        return self.get(request)


class TokenListView(APIView):
    """Your API tokens; POST creates one and returns it once in `token`."""

    permission_classes = [IsMember]

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request):
        return Response(TokenSerializer(selectors.user_tokens(request.user), many=True).data)

    @extend_schema(request=TokenSerializer, responses=TokenSerializer)
    def post(self, request):
        # A token never mints tokens: a leaked one must not outlive its own expiry or revocation.
        if request_token(request) is not None:
            raise PermissionDenied(_("Create tokens from a logged-in session, not with a token."))
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expires = serializer.validated_data.get("expires_at")
        if expires and expires <= timezone.now():
            raise ValidationError({"expires_at": "Must be in the future."})
        row, raw = api_token_create(
            user=request.user,
            name=serializer.validated_data["name"],
            scope=serializer.validated_data.get("scope", APIToken.Scope.READ),  # the model's default: read
            expires_at=expires,
            request=request,
        )
        return Response({**TokenSerializer(row).data, "token": raw}, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    """DELETE revokes one of your tokens."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        token = get_object_or_404(selectors.user_tokens(request.user), pk=pk)
        api_token_revoke(token=token, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    """Your logged-in browser sessions."""

    permission_classes = [IsMember]

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request):
        return Response(SessionSerializer(selectors.user_sessions(request.user), many=True).data)


class SessionDetailView(APIView):
    """DELETE ends one of your sessions."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        row = get_object_or_404(request.user.tracked_sessions, pk=pk)
        session_end(user=request.user, session_key=row.session_key, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserListView(APIView):
    """Admins: every user; POST creates one (needs a recent step-up or a full-scope token)."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsAdmin()]
        return [IsAdmin(), StepUpRequired()]

    @extend_schema(responses=UserSerializer(many=True))
    def get(self, request):
        return Response(UserSerializer(User.objects.order_by("username"), many=True).data)

    @extend_schema(request=UserCreateSerializer, responses=UserSerializer)
    def post(self, request):
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(actor=request.user, request=request, **serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    """Admins: one user; PATCH changes role, state, e-mail, install right or password; DELETE removes them
    (step-up)."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsAdmin()]
        return [IsAdmin(), StepUpRequired()]

    @extend_schema(responses=UserSerializer)
    def get(self, request, pk: int):
        return Response(UserSerializer(get_object_or_404(User, pk=pk)).data)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def patch(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "password" in data:
            validate_password(data["password"], user)
        try:
            user_update(
                actor=request.user,
                request=request,
                user=user,
                role=data.get("role", user.role),
                is_active=data.get("is_active", user.is_active),
                email=data.get("email", user.email),
                may_install_apps=data.get("may_install_apps"),
            )
        except LastAdminError:
            raise ValidationError(_("The home cloud needs at least one active admin.")) from None
        if "password" in data:
            user_password_reset(actor=request.user, request=request, user=user, password=data["password"])
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        if user == request.user:
            raise ValidationError(_("You cannot delete your own account."))
        try:
            user_delete(actor=request.user, request=request, user=user)
        except LastAdminError:
            raise ValidationError(_("The home cloud needs at least one active admin.")) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserUnlockView(APIView):
    """Admins: lift a lockout on a user's account name."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        lockout_clear(username=user.username, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListView(APIView):
    """Admins: the audit log, newest first (?action=login&actor=alice)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=AuditEventSerializer(many=True))
    def get(self, request):
        events = selectors.audit_events(
            action=request.query_params.get("action", "")[:64], actor=request.query_params.get("actor", "")[:150]
        )
        return Response(AuditEventSerializer(events, many=True).data)
