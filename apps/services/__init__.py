"""Every write of the apps feature; the page, the API, the admin and the tasks call these."""

from .common import ConsentRequired, InstallError, app_publish
from .install import app_install, app_install_retry, app_project
from .lifecycle import app_cancel, app_reconcile, app_uninstall, app_uninstall_run
from .pipeline import app_install_end, app_install_run
from .status import app_events_listen, app_status_of, app_status_refresh

__all__ = [
    "ConsentRequired",
    "InstallError",
    "app_cancel",
    "app_events_listen",
    "app_install",
    "app_install_end",
    "app_install_retry",
    "app_install_run",
    "app_project",
    "app_publish",
    "app_reconcile",
    "app_status_of",
    "app_status_refresh",
    "app_uninstall",
    "app_uninstall_run",
]
