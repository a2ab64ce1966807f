"""The Backups page: repositories, jobs, runs and snapshots; the recovery sheet; the snapshot browser."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required
from accounts.services import audit_record

from .forms import JobForm, RepositoryForm
from .host.restic import ResticError
from .models import BackupJob, JobRun, Repository, Snapshot
from .selectors import snapshot_browse
from .services import RepositoryError, job_run_queue, repository_create, repository_password_reveal, restore_queue
from .services.restore import RestoreError
from .services.runs import RunError
from .targets import recovery_location

REFUSED = (ValidationError, RepositoryError, RestoreError, RunError, ResticError)


def _context(request, **extra) -> dict:
    return {
        "repositories": Repository.objects.select_related("remote"),
        "jobs": BackupJob.objects.select_related("repository"),
        "runs": JobRun.objects.select_related("job", "repository")[:20],
        "snapshots": Snapshot.objects.select_related("repository")[:50],
        "repo_form": extra.pop("repo_form", None) or RepositoryForm(user=request.user),
        "job_form": extra.pop("job_form", None) or JobForm(user=request.user),
        **extra,
    }


def _page(request, status: int = 200, **extra):
    return render(request, "backups/index.html", _context(request, **extra), status=status)


@admin_required
def backups_index(request):
    """Repositories, jobs with their last run, recent runs and snapshots."""
    return _page(request)


@admin_required
def backups_runs(request):
    """The runs fragment: what the page fetches when its socket says a run changed (or every few seconds)."""
    return render(request, "backups/partials/_runs.html", _context(request))


def page_action(view):
    """A page action: refused → the page again with the reason at 400."""

    @admin_required
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except REFUSED as exc:
            words = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            return _page(request, status=400, error=words)

    return wrapper


@page_action
def backups_repository_create(request):
    form = RepositoryForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, repo_form=form)
    repo = repository_create(user=request.user, request=request, **form.cleaned_data)
    if repo.password_shown:
        messages.success(request, _("The repository is connected."))
        return redirect("backups")
    return redirect("backups-recovery", pk=repo.pk)


@page_action
def backups_repository_for_updates(request, pk: int):
    """Make this repository the one of the snapshots before app updates, or (on=0) choose none."""
    from .services.before_update import repository_for_updates

    repo = get_object_or_404(Repository, pk=pk)
    repository_for_updates(
        user=request.user, repository=repo if request.POST.get("on") == "1" else None, request=request
    )
    return redirect("backups")


@admin_required
def backups_recovery(request, pk: int):
    """The recovery sheet: the password, once; a later visit says where it went."""
    repo = get_object_or_404(Repository, pk=pk)
    password = repository_password_reveal(user=request.user, repository=repo, request=request)
    context = {"repo": repo, "password": password, "location": recovery_location(repo)}
    return render(request, "backups/recovery.html", context)


@page_action
def backups_job_create(request):
    form = JobForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, job_form=form)
    job = form.save(commit=False)
    job.created_by = request.user
    job.save()
    audit_record(actor=request.user, action="backups.job.create", request=request, target=job.name)
    messages.success(request, _("The job is saved."))
    return redirect("backups")


@page_action
def backups_job_run(request, pk: int):
    job_run_queue(user=request.user, job=get_object_or_404(BackupJob, pk=pk), request=request)
    messages.success(request, _("The backup is queued."))
    return redirect("backups")


@page_action
def backups_job_delete(request, pk: int):
    job = get_object_or_404(BackupJob, pk=pk)
    audit_record(actor=request.user, action="backups.job.delete", request=request, target=job.name)
    job.delete()
    messages.success(request, _("The job is deleted; its snapshots stay in the repository."))
    return redirect("backups")


@admin_required
def backups_snapshot(request, pk: int):
    """The snapshot browser: one folder of the snapshot, in the Files page's manner, with restore actions."""
    snap = get_object_or_404(Snapshot.objects.select_related("repository"), pk=pk)
    top = snap.paths[0] if snap.paths else "/"
    path = request.GET.get("path", "") or top
    try:
        entries = snapshot_browse(snapshot=snap, path=path)
    except ResticError as exc:
        entries, error = [], str(exc)
    else:
        error = ""
    crumbs = _crumbs(top, path)
    context = {"snap": snap, "entries": entries, "path": path, "top": top, "crumbs": crumbs, "error": error}
    return render(request, "backups/snapshot.html", context)


def _crumbs(top: str, path: str) -> list[tuple[str, str]]:
    """(name, path) of each folder from the snapshot's top folder down to `path`."""
    crumbs = [(top.rstrip("/").rsplit("/", 1)[-1] or "/", top)]
    if path != top and path.startswith(top.rstrip("/") + "/"):
        current = top.rstrip("/")
        for part in path[len(current) + 1 :].split("/"):
            current = f"{current}/{part}"
            crumbs.append((part, current))
    return crumbs


@page_action
def backups_snapshot_restore(request, pk: int):
    """Restore a folder snapshot's chosen paths, or an app to its place or (where=copy) as a copy named `as_name`."""
    snap = get_object_or_404(Snapshot, pk=pk)
    as_name = request.POST.get("as_name", "").strip() if request.POST.get("where", "copy") == "copy" else ""
    if request.POST.get("where") == "copy" and not as_name:
        return _page(request, status=400, error=_("Give the copy a name."))
    restore_queue(
        user=request.user,
        snapshot=snap,
        paths=request.POST.getlist("paths"),
        target=request.POST.get("target", ""),
        as_name=as_name,
        request=request,
    )
    if as_name:
        messages.success(
            request,
            _("The copy %(name)s is being installed with the snapshot's data; its progress shows below.")
            % {"name": as_name},
        )
    else:
        messages.success(request, _("The restore is queued; its progress shows below."))
    return redirect("backups")
