"""REST endpoints of backups: repositories, jobs, runs, snapshots and restores. Admins only; every write audited."""

from functools import wraps

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from accounts.services import audit_record
from casaos_site.validation import validated

from . import serializers as s
from .host.restic import ResticError
from .models import BackupJob, JobRun, Repository, Snapshot
from .selectors import snapshot_browse
from .services import RepositoryError, job_run_queue, repository_create, repository_delete, restore_queue
from .services.restore import RestoreError
from .services.runs import RunError


def refusals(view):
    """What cannot be done answers 400 with the reason in words; a target that fails answers 503."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=400)
        except (RepositoryError, RestoreError, RunError) as exc:
            return Response({"detail": str(exc)}, status=400)
        except ResticError as exc:
            return Response({"detail": str(exc)}, status=503)

    return wrapper


class AdminView(APIView):
    permission_classes = [IsAdmin]


class RepositoryListView(AdminView):
    """Repositories; POST connects a target. A generated password is in that one answer, never again."""

    serializer_class = s.RepositorySerializer

    @extend_schema(operation_id="api_backups_repositories_list", responses=s.RepositorySerializer(many=True))
    def get(self, request):
        return Response(s.RepositorySerializer(Repository.objects.all(), many=True).data)

    @refusals
    def post(self, request):
        data = validated(s.RepositoryCreateSerializer, request.data)
        repo = repository_create(user=request.user, request=request, **data)
        answer = s.RepositorySerializer(repo).data
        if not repo.password_shown:
            from .services import repository_password_reveal

            answer["password"] = repository_password_reveal(user=request.user, repository=repo, request=request)
        return Response(answer, status=201)


class RepositoryDetailView(AdminView):
    serializer_class = s.RepositorySerializer

    def get(self, request, pk: int):
        return Response(s.RepositorySerializer(get_object_or_404(Repository, pk=pk)).data)

    def patch(self, request, pk: int):
        """`{"for_updates": true}` makes it the repository of the snapshots before app updates (false: none)."""
        from .services.before_update import repository_for_updates

        repo = get_object_or_404(Repository, pk=pk)
        on = validated(s.ForUpdatesSerializer, request.data)["for_updates"]
        if on or repo.for_updates:
            repository_for_updates(user=request.user, repository=repo if on else None, request=request)
        repo.refresh_from_db()
        return Response(s.RepositorySerializer(repo).data)

    @refusals
    def delete(self, request, pk: int):
        repository_delete(user=request.user, repository=get_object_or_404(Repository, pk=pk), request=request)
        return Response(status=204)


class JobListView(AdminView):
    serializer_class = s.JobSerializer

    @extend_schema(operation_id="api_backups_jobs_list", responses=s.JobSerializer(many=True))
    def get(self, request):
        return Response(s.JobSerializer(BackupJob.objects.all(), many=True).data)

    def post(self, request):
        serializer = s.JobSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        job = serializer.save(created_by=request.user)
        audit_record(actor=request.user, action="backups.job.create", request=request, target=job.name)
        return Response(s.JobSerializer(job).data, status=201)


class JobDetailView(AdminView):
    serializer_class = s.JobSerializer

    def get(self, request, pk: int):
        return Response(s.JobSerializer(get_object_or_404(BackupJob, pk=pk)).data)

    def patch(self, request, pk: int):
        job = get_object_or_404(BackupJob, pk=pk)
        serializer = s.JobSerializer(job, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        serializer.save()
        audit_record(actor=request.user, action="backups.job.change", request=request, target=job.name)
        return Response(serializer.data)

    def delete(self, request, pk: int):
        job = get_object_or_404(BackupJob, pk=pk)
        audit_record(actor=request.user, action="backups.job.delete", request=request, target=job.name)
        job.delete()
        return Response(status=204)


class JobRunView(AdminView):
    """POST: back the job up now."""

    serializer_class = s.RunSerializer

    @refusals
    def post(self, request, pk: int):
        run = job_run_queue(user=request.user, job=get_object_or_404(BackupJob, pk=pk), request=request)
        return Response(s.RunSerializer(run).data, status=202)


class RunListView(AdminView):
    serializer_class = s.RunSerializer

    def get(self, request):
        runs = JobRun.objects.all()[:100]
        return Response(s.RunSerializer(runs, many=True).data)


class SnapshotListView(AdminView):
    """The snapshots we know (refreshed after each run); ?repository=<id> narrows the list."""

    serializer_class = s.SnapshotSerializer

    @extend_schema(operation_id="api_backups_snapshots_list", responses=s.SnapshotSerializer(many=True))
    def get(self, request):
        snaps = Snapshot.objects.all()
        if request.query_params.get("repository", "").isdigit():
            snaps = snaps.filter(repository_id=int(request.query_params["repository"]))
        return Response(s.SnapshotSerializer(snaps, many=True).data)


class SnapshotDetailView(AdminView):
    """A snapshot, and with ?path= the entries of that folder in it (the snapshot browser)."""

    serializer_class = s.SnapshotSerializer

    @refusals
    def get(self, request, pk: int):
        snap = get_object_or_404(Snapshot, pk=pk)
        answer = s.SnapshotSerializer(snap).data
        if "path" in request.query_params:
            answer["entries"] = snapshot_browse(snapshot=snap, path=request.query_params["path"])
        return Response(answer)


class SnapshotRestoreView(AdminView):
    """POST: restore the app, or the chosen files of a folder snapshot."""

    serializer_class = s.RestoreSerializer

    @refusals
    def post(self, request, pk: int):
        data = validated(s.RestoreSerializer, request.data)
        snap = get_object_or_404(Snapshot, pk=pk)
        run = restore_queue(user=request.user, snapshot=snap, request=request, **data)
        return Response(s.RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
