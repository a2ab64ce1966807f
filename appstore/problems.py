"""A store's failed sync in plain words (the App Store page), and which failures a later attempt may heal."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Store

# Failures of the network or the server: the sync is tried again later by itself (with backoff).
TRANSIENT = frozenset({"dns", "offline", "refused", "timeout", "unreachable", "server", "broken", "deadline"})

PLAIN = {
    "dns": gettext_lazy(
        "No network: %(host)s could not be found. Check that this machine is connected to the internet."
    ),
    "offline": gettext_lazy("No network: this machine has no route to %(host)s. Check its internet connection."),
    "refused": gettext_lazy("%(host)s refused the connection."),
    "timeout": gettext_lazy("%(host)s did not answer in time."),
    "unreachable": gettext_lazy("%(host)s could not be reached."),
    "tls": gettext_lazy("The secure connection to %(host)s failed."),
    "server": gettext_lazy("%(host)s has a problem right now (it answered with a server error)."),
    "http": gettext_lazy("%(host)s has no store at this address."),
    "too_large": gettext_lazy("The store is larger than this machine accepts (CASAOS_APPSTORE_MAX_ARCHIVE)."),
    "deadline": gettext_lazy(
        "The download took longer than this machine allows (CASAOS_APPSTORE_DOWNLOAD_DEADLINE). "
        "The store's server may be very slow, or sending on purpose as slowly as it can."
    ),
    "broken": gettext_lazy("The download broke off."),
    "disk": gettext_lazy("There is not enough free disk space for the store."),
    "blocked": gettext_lazy(
        "The store is on this machine or the local network, and such stores are not allowed "
        "(an administrator can allow them under Manage stores)."
    ),
    "forbidden": gettext_lazy(
        "The store, or a redirect from it, leads to a link-local or cloud metadata address. Such addresses are "
        "never fetched, whatever the settings: a store has no business there."
    ),
    "redirects": gettext_lazy("%(host)s redirects too many times."),
    "archive": gettext_lazy("The store's archive could not be read."),
    "content": gettext_lazy("The download holds no app store."),
    "folder": gettext_lazy("The store's folder does not exist."),
}


def store_problem(store: Store) -> str:
    """What went wrong with a store's last sync, in words a person can act on ("" when nothing did)."""
    if store.status != Store.Status.ERROR:
        return ""
    host = urlsplit(store.url).hostname or store.path or store.name
    text = PLAIN.get(store.error_code)
    return str(text) % {"host": host} if text else _("The store could not be read.")


def is_transient(store: Store) -> bool:
    """True when the last failure was the network's or the server's: trying again later may work."""
    return store.status == Store.Status.ERROR and store.error_code in TRANSIENT
