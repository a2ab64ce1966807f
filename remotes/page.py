"""What the Remotes page shows: each remote with its state and sync jobs, and the fields each kind asks for."""

from django.utils.translation import gettext_lazy as _

from .backends import BACKENDS
from .models import Remote, SyncJob

LABELS = {
    "host": _("Server (name or address)"),
    "port": _("Port"),
    "user": _("User name"),
    "domain": _("Domain (workgroup)"),
    "share": _("Share"),
    "path": _("Folder on the remote (empty: all of it)"),
    "export": _("Export path"),
    "url": _("Address (https://…)"),
    "vendor": _("Server kind (other, nextcloud, owncloud, sharepoint)"),
    "provider": _("S3 provider (AWS, Minio, Wasabi, Other…)"),
    "endpoint": _("Endpoint address"),
    "region": _("Region"),
    "bucket": _("Bucket"),
    "client_id": _("OAuth client id (empty: rclone's own)"),
    "auth_url": _("Authorisation address (empty: the provider's)"),
    "token_url": _("Token address (empty: the provider's)"),
    "scope": _("Scope (drive, drive.readonly…)"),
    "root_folder_id": _("Root folder id"),
    "drive_id": _("Drive id"),
    "drive_type": _("Drive type (personal, business…)"),
    "pass": _("Password"),
    "bearer_token": _("Bearer token"),
    "access_key_id": _("Access key id"),
    "secret_access_key": _("Secret access key"),
    "client_secret": _("OAuth client secret"),
    "token": _("Token"),
}


def kinds() -> list[dict]:
    """Each kind with its fields, for the add form (one fieldset per kind)."""
    found = []
    for kind, label in Remote.Kind.choices:
        spec = BACKENDS[kind]
        fields = [{"name": n, "label": LABELS[n], "required": n in spec.required} for n in spec.options]
        secrets = [{"name": n, "label": LABELS[n]} for n in spec.secrets if n != "token"]
        found.append({"kind": kind, "label": label, "fields": fields, "secrets": secrets, "oauth": spec.oauth})
    return found


def remotes_page() -> dict:
    jobs = list(SyncJob.objects.select_related("remote").prefetch_related("runs"))
    for job in jobs:
        job.history = list(job.runs.all()[:5])
    return {"remotes": list(Remote.objects.all()), "jobs": jobs, "kinds": kinds(),
            "directions": SyncJob.Direction.choices}  # fmt: skip
