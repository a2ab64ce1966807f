"""REST endpoints for remotes and sync jobs (/api/remotes/): admins only, every change audited by its service."""

from functools import wraps

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from casaos_site.validation import validated

from . import oauth, services, sync
from . import serializers as s
from .backends import RemoteRefused
from .models import Remote, SyncJob


def refusals(view):
    """A refused act answers its 4xx with the reason in words."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except RemoteRefused as exc:
            return Response({"detail": exc.message, "code": exc.code}, status=exc.status)

    return wrapper


class AdminView(APIView):
    permission_classes = [IsAdmin]


class RemoteListView(AdminView):
    """Every remote with its state; POST adds one and mounts it (422 with the reason when that fails)."""

    @extend_schema(responses=s.RemoteSerializer(many=True))
    def get(self, request):
        return Response(s.RemoteSerializer(Remote.objects.all(), many=True).data)

    @extend_schema(request=s.RemoteWriteSerializer, responses=s.RemoteSerializer)
    @refusals
    def post(self, request):
        data = validated(s.RemoteWriteSerializer, request.data)
        remote = services.remote_create(user=request.user, request=request, **data)
        return Response(s.RemoteSerializer(remote).data, status=status.HTTP_201_CREATED)


class RemoteDetailView(AdminView):
    @extend_schema(responses=s.RemoteSerializer)
    def get(self, request, pk: int):
        return Response(s.RemoteSerializer(get_object_or_404(Remote, pk=pk)).data)

    @extend_schema(request=s.RemoteChangeSerializer, responses=s.RemoteSerializer)
    @refusals
    def patch(self, request, pk: int):
        data = validated(s.RemoteChangeSerializer, request.data)
        remote = services.remote_update(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request,
                                        **data)  # fmt: skip
        return Response(s.RemoteSerializer(remote).data)

    @extend_schema(responses=None)
    @refusals
    def delete(self, request, pk: int):
        services.remote_delete(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RemoteMountView(AdminView):
    @extend_schema(request=None, responses=s.RemoteSerializer)
    @refusals
    def post(self, request, pk: int):
        remote = services.remote_mount(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
        return Response(s.RemoteSerializer(remote).data)


class RemoteUnmountView(AdminView):
    @extend_schema(request=None, responses=s.RemoteSerializer)
    @refusals
    def post(self, request, pk: int):
        remote = services.remote_unmount(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
        return Response(s.RemoteSerializer(remote).data)


class SyncJobListView(AdminView):
    @extend_schema(responses=s.SyncJobSerializer(many=True))
    def get(self, request):
        return Response(s.SyncJobSerializer(SyncJob.objects.select_related("remote"), many=True).data)

    @extend_schema(request=s.SyncJobWriteSerializer, responses=s.SyncJobSerializer)
    @refusals
    def post(self, request):
        data = validated(s.SyncJobWriteSerializer, request.data)
        data["remote"] = get_object_or_404(Remote, pk=data["remote"])
        job = sync.sync_create(user=request.user, request=request, **data)
        return Response(s.SyncJobSerializer(job).data, status=status.HTTP_201_CREATED)


class SyncJobDetailView(AdminView):
    @extend_schema(operation_id="api_remotes_sync_runs_list", responses=s.SyncRunSerializer(many=True))
    def get(self, request, pk: int):
        job = get_object_or_404(SyncJob, pk=pk)
        return Response(s.SyncRunSerializer(job.runs.all()[:50], many=True).data)

    @extend_schema(responses=None)
    def delete(self, request, pk: int):
        sync.sync_delete(user=request.user, job=get_object_or_404(SyncJob, pk=pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SyncJobRunView(AdminView):
    @extend_schema(request=None, responses=s.SyncRunSerializer)
    def post(self, request, pk: int):
        run = sync.sync_start(job=get_object_or_404(SyncJob, pk=pk), user=request.user, request=request)
        return Response(s.SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RemoteAuthorizeView(AdminView):
    """Start rclone's OAuth flow for a cloud drive: the answer's `url` is the provider's sign-in page."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @refusals
    def post(self, request, pk: int):
        url = oauth.authorize_start(user=request.user, remote=get_object_or_404(Remote, pk=pk), request=request)
        return Response({"url": url})


class RemoteAuthorizeFinishView(AdminView):
    """Finish it with the address the browser ended on (or a token from `rclone authorize` run elsewhere)."""

    @extend_schema(request=s.AuthorizeFinishSerializer, responses=s.RemoteSerializer)
    @refusals
    def post(self, request, pk: int):
        answer = validated(s.AuthorizeFinishSerializer, request.data)["answer"]
        remote = get_object_or_404(Remote, pk=pk)
        remote = oauth.authorize_finish(user=request.user, remote=remote, answer=answer, request=request)
        return Response(s.RemoteSerializer(remote).data)
