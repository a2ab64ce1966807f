"""What every apps service shares: the engine, the error types and the one way state reaches pages."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

import runtime
from casaos_site.events import publish

from ..models import Installation
from ..selectors import app_state

APPS_GROUP = "apps"  # the installed-apps list listens here; each app also has its own group
STATE_EVENT = "app.state"
REMOVED_EVENT = "app.removed"


class InstallError(ValidationError):
    """An install or uninstall request we refuse; the message says why in words an admin can act on."""


class ConsentRequired(InstallError):
    """The compose file asks for host access: the admin must see `flags`, consent and confirm (step-up)."""

    def __init__(self, message: str, *, flags: list[str], stepup: bool = False) -> None:
        super().__init__(message, code="consent")
        self.flags = flags
        self.stepup = stepup  # True: consent was given, but the step-up re-check is missing or stale


class InstallFailed(Exception):
    """A step of the pipeline failed; the message is what the page shows."""


class InstallCancelled(Exception):
    """The admin cancelled the install; raised from inside the pipeline to unwind it."""


def engine() -> runtime.Engine:
    """The configured engine (Docker or Podman, both through the Docker API)."""
    return runtime.get_engine(settings.ENGINE_URL)


def app_publish(installation: Installation) -> None:
    """Push the app's current state to its own page and to the apps list."""
    state = app_state(installation)
    publish(installation.group, STATE_EVENT, state)
    publish(APPS_GROUP, STATE_EVENT, state)


def app_update(installation: Installation, *, publish_state: bool = True, **fields) -> Installation:
    """Write some fields (and the heartbeat) without touching the rest of the row, then publish."""
    fields.setdefault("heartbeat_at", timezone.now())
    fields["updated_at"] = timezone.now()
    Installation.objects.filter(pk=installation.pk).update(**fields)
    for key, value in fields.items():
        setattr(installation, key, value)
    if publish_state:
        app_publish(installation)
    return installation
