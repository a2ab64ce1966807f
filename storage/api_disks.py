"""REST endpoints for disks, mounts and pools (issue 15): admins only, every action audited by its service."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from casaos_site.i18n import deferred
from casaos_site.validation import validated

from . import serializers as s
from .formatting import disk_format
from .health import disk_health_check
from .host.errors import HostError
from .inventory import inventory_current
from .models import Disk, Mount, Pool, StorageSettings
from .mounts import disk_eject, mount_create, mount_remove
from .pools import pool_change, pool_create, pool_delete
from .preferences import storage_settings_update
from .safety import StorageRefused, refuse_raw_path

HISTORY = 100  # health samples returned with a SMART reading


def refusals(view):
    """A refused action answers its 4xx with the reason; a host tool that failed answers 503 with its words."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except StorageRefused as exc:
            return Response({"detail": exc.message, "code": exc.code, **exc.details}, status=exc.status)
        except HostError as exc:
            return Response({"detail": str(exc), "code": "host"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)

    return wrapper


def disk_by_id(disk_id: str) -> Disk:
    refuse_raw_path(disk_id)
    return get_object_or_404(Disk, stable_id=disk_id)


class AdminView(APIView):
    permission_classes = [IsAdmin]


class DiskListView(AdminView):
    """Disks and arrays of the stored inventory (array members are listed under their array)."""

    @extend_schema(responses=s.DiskSerializer(many=True))
    @refusals
    def get(self, request):
        inventory_current()
        # An array's members are part of it: the array's `array.members` names them.
        disks = Disk.objects.filter(present=True, member_of__isnull=True).prefetch_related("partitions")
        return Response(s.DiskSerializer(disks, many=True).data)


class DiskDetailView(AdminView):
    """One disk, its partitions and its latest jobs."""

    @extend_schema(responses=s.DiskDetailSerializer)
    @refusals
    def get(self, request, disk_id: str):
        return Response(s.DiskDetailSerializer(disk_by_id(disk_id)).data)


class DiskSmartView(AdminView):
    """A SMART reading now, with the kept history (newest first)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @refusals
    def get(self, request, disk_id: str):
        disk = disk_by_id(disk_id)
        if disk.kind != Disk.Kind.DISK or not disk.present:
            raise StorageRefused(
                deferred("Health is read from attached disks (an array's members have it)."), code="no-smart"
            )
        latest = disk_health_check(disk=disk)
        history = disk.health_samples.all()[:HISTORY]
        return Response(
            {
                "latest": s.HealthSampleSerializer(latest).data,
                "history": s.HealthSampleSerializer(history, many=True).data,
            }
        )


class DiskFormatView(AdminView):
    """Erase the disk: GPT, one partition, a filesystem, then mounted (202, a job). Needs step-up and the typed
    model and serial."""

    @extend_schema(request=s.FormatSerializer, responses={202: s.DiskJobSerializer})
    @refusals
    def post(self, request, disk_id: str):
        disk = disk_by_id(disk_id)
        data = validated(s.FormatSerializer, request.data)
        job = disk_format(disk=disk, user=request.user, request=request, **data)
        return Response(s.DiskJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class DiskEjectView(AdminView):
    """Safe eject: sync, unmount our mounts on the disk, power its USB port off when possible."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @refusals
    def post(self, request, disk_id: str):
        powered_off = disk_eject(disk=disk_by_id(disk_id), user=request.user, request=request)
        return Response({"ejected": True, "powered_off": powered_off})


class MountListView(AdminView):
    """Our mount table; POST mounts an existing filesystem (named by its UUID) under the media root."""

    @extend_schema(responses=s.MountSerializer(many=True))
    def get(self, request):
        return Response(s.MountSerializer(Mount.objects.prefetch_related("pools"), many=True).data)

    @extend_schema(request=s.MountCreateSerializer, responses={201: s.MountSerializer})
    @refusals
    def post(self, request):
        data = validated(s.MountCreateSerializer, request.data)
        mount = mount_create(fs_uuid=data["uuid"], name=data["name"], user=request.user, request=request)
        return Response(s.MountSerializer(mount).data, status=status.HTTP_201_CREATED)


class MountUnmountView(AdminView):
    """Unmount and forget one of our mounts; a busy filesystem answers 409 with the processes holding it."""

    @extend_schema(request=None, responses={204: None})
    @refusals
    def post(self, request, pk: int):
        mount_remove(mount=get_object_or_404(Mount, pk=pk), user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PoolListView(AdminView):
    """Pools; POST merges mounted disks into one mergerfs mount."""

    @extend_schema(responses=s.PoolSerializer(many=True))
    def get(self, request):
        return Response(s.PoolSerializer(Pool.objects.prefetch_related("members"), many=True).data)

    @extend_schema(request=s.PoolCreateSerializer, responses={201: s.PoolSerializer})
    @refusals
    def post(self, request):
        data = validated(s.PoolCreateSerializer, request.data)
        pool = pool_create(
            name=data["name"], mount_ids=data["members"], policy=data["policy"], user=request.user, request=request
        )
        return Response(s.PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailView(AdminView):
    """One pool: PATCH changes members or policy live, DELETE unmounts it (its disks stay mounted)."""

    @extend_schema(responses=s.PoolSerializer)
    def get(self, request, pk: int):
        return Response(s.PoolSerializer(get_object_or_404(Pool, pk=pk)).data)

    @extend_schema(request=s.PoolChangeSerializer, responses=s.PoolSerializer)
    @refusals
    def patch(self, request, pk: int):
        data = validated(s.PoolChangeSerializer, request.data)
        pool = pool_change(
            pool=get_object_or_404(Pool, pk=pk),
            policy=data.get("policy"),
            mount_ids=data.get("members"),
            user=request.user,
            request=request,
        )
        return Response(s.PoolSerializer(pool).data)

    @extend_schema(responses={204: None})
    @refusals
    def delete(self, request, pk: int):
        pool_delete(pool=get_object_or_404(Pool, pk=pk), user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StorageSettingsView(AdminView):
    """Automount of plugged-in disks (off by default) and the disk-full warning threshold; PATCH is audited."""

    @extend_schema(responses=s.StorageSettingsSerializer)
    def get(self, request):
        return Response(s.StorageSettingsSerializer(StorageSettings.load()).data)

    @extend_schema(request=s.StorageSettingsSerializer, responses=s.StorageSettingsSerializer)
    def patch(self, request):
        serializer = s.StorageSettingsSerializer(StorageSettings.load(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = storage_settings_update(user=request.user, request=request, **serializer.validated_data)
        return Response(s.StorageSettingsSerializer(obj).data)
