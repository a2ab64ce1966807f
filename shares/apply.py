"""Apply: the shares of the database become Samba's live configuration (the shares.apply task's work).

Each share's folder is resolved again (a disk that is not mounted now, or a folder gone, leaves that share out: never
the empty mount point on the system disk), the include file is rendered, testparm checks the whole configuration,
and only then is the file swapped and smbd told to read it. A refusal keeps the old file live and names Samba's
message on every share whose change did not go live. Progress and the final states go to the shares group.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from casaos_site.events import publish
from casaos_site.i18n import deferred
from files.fs import held
from files.ownership import hand_over
from storage.host.errors import HostError

from .host import accounts as host_accounts
from .host import discovery, samba
from .models import SambaAccount, Share, ShareGrant
from .validation import ShareRefused, check_reachable, check_samba_ready, share_folder

STATE_EVENT = "shares.state"
log = logging.getLogger(__name__)


def share_payload(share: Share) -> dict:
    return {"id": share.pk, "name": share.name, "state": share.state, "error": share.error}


def _publish(shares: list[Share], step: str) -> None:
    publish(settings.SHARES_GROUP, STATE_EVENT, {"step": step, "shares": [share_payload(s) for s in shares]})


def _users_of(share: Share, names: dict[int, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(readers, writers) by SMB user name; users disabled in our app are left out."""
    grants = [g for g in share.grants.all() if g.user.is_active and g.user_id in names]
    readers = tuple(names[g.user_id] for g in grants if g.access == ShareGrant.Access.READ)
    writers = tuple(names[g.user_id] for g in grants if g.access == ShareGrant.Access.WRITE)
    return readers, writers


def _spec(share: Share, real: str, names: dict[int, str]) -> samba.ShareSpec:
    readers, writers = _users_of(share, names)
    return samba.ShareSpec(
        name=share.name,
        path=real,
        readers=readers,
        writers=writers,
        guest=share.guest,
        browseable=share.visible,
        recycle=share.recycle,
    )


def _folder(share: Share, writable: bool) -> str:
    """The share's folder now; a share others write to gets its folder handed to the service user (its top only:
    what is inside keeps its owner, docs/shares.md says how to hand that over too)."""
    target = share_folder(share.place)
    if writable:
        with held(target.open()) as fd:
            hand_over(fd)
    check_reachable(target.real, user=settings.SHARES_USER)
    return str(target.real)


def _plan(shares: list[Share]) -> tuple[list[samba.ShareSpec], dict[int, str]]:
    """The specs of every share that can go live, and why each other one cannot (by share id)."""
    names = dict(SambaAccount.objects.values_list("user_id", "unix_name"))
    specs, refused = [], {}
    for share in shares:
        if share.state == Share.State.REMOVING:
            continue
        try:
            real = _folder(share, writable=any(g.access == ShareGrant.Access.WRITE for g in share.grants.all()))
        except ShareRefused as exc:
            refused[share.pk] = exc.stored
            continue
        share.real_path = real
        specs.append(_spec(share, real, names))
    return specs, refused


def _go_live(specs: list[samba.ShareSpec]) -> None:
    """Check, swap and reload; SambaRefused (the old file stays) or HostError (a tool missing or failing)."""
    user = settings.SHARES_USER
    text = samba.render(specs, user=user, group=user)
    samba.check(conf=settings.SAMBA_CONF, include=settings.SAMBA_INCLUDE, text=text)
    samba.include_ensure(conf=settings.SAMBA_CONF, include=settings.SAMBA_INCLUDE)
    samba.install(include=settings.SAMBA_INCLUDE, text=text)
    samba.reload(conf=settings.SAMBA_CONF)
    _announce(any(spec.browseable for spec in specs))


def _announce(anything: bool) -> None:
    """The Avahi service file, there while a visible share is; a failure here never fails the apply."""
    try:
        port = discovery.smb_port(samba.parameter(conf=settings.SAMBA_CONF, name="smb ports"))
        text = discovery.render_service(port=port) if anything else None
        discovery.service_install(path=settings.SHARES_AVAHI_SERVICE, text=text)
    except (HostError, OSError, ValueError) as exc:
        log.warning("shares: could not write the Avahi service file: %s", exc)


def _outcome(share: Share, refused: dict[int, str], failure: str) -> tuple[str, str]:
    if share.pk in refused:
        return Share.State.FAILED, refused[share.pk]
    if failure:  # the old file stays live: a share it already held as stored is still as stored
        return (share.state, share.error) if share.state == Share.State.APPLIED else (Share.State.FAILED, failure)
    return ("removed" if share.state == Share.State.REMOVING else Share.State.APPLIED), ""


def _settle(shares: list[Share], refused: dict[int, str], failure: str) -> None:
    """Store each share's state: live as stored (applied), left out (failed with why), or gone (deleted). A row
    changed while this ran is left alone (the apply its change queued settles it)."""
    now = timezone.now()
    for share in shares:
        unchanged = Share.objects.filter(pk=share.pk, updated_at=share.updated_at)
        share.state, share.error = _outcome(share, refused, failure)
        if share.state == "removed":
            unchanged.delete()
            continue
        share.applied_at = now if share.state == Share.State.APPLIED and not failure else share.applied_at
        unchanged.update(state=share.state, error=share.error, applied_at=share.applied_at, real_path=share.real_path)


def _attempt(shares: list[Share]) -> tuple[dict[int, str], str]:
    """(why each share left out was, why nothing went live or ""): the whole apply, its failures in words."""
    refused: dict[int, str] = {}
    try:
        check_samba_ready(settings.SAMBA_CONF)
        host_accounts.service_user_ensure(settings.SHARES_USER)  # first: folders are handed over to it
        specs, refused = _plan(shares)
        _go_live(specs)
    except ShareRefused as exc:
        return refused, exc.stored
    except samba.SambaRefused as exc:
        return refused, deferred("Samba refused the configuration: %(error)s", error=exc.stderr or exc.message)
    except HostError as exc:
        return refused, deferred("Samba could not be configured: %(error)s", error=str(exc))
    except Exception as exc:  # a bug or a database error: no share may stay "applying" for good
        log.exception("shares: apply failed unexpectedly")
        return refused, f"{type(exc).__name__}: {exc}"
    return refused, ""


def shares_apply_run() -> list[Share]:
    """Make Samba's live configuration match the database; every share's state says how it went."""
    with samba.locked(settings.SAMBA_INCLUDE):
        shares = list(Share.objects.prefetch_related("grants__user"))
        _publish(shares, "applying")
        refused, failure = _attempt(shares)
        if failure:
            log.warning("shares: apply failed: %s", failure)
        _settle(shares, refused, failure)
    _publish(shares, "failed" if failure else "done")
    return shares
