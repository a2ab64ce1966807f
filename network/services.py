"""Writes of the Network page: the host name (through system/'s service, with step-up) and interface changes behind
a NetworkManager checkpoint that rolls back by itself unless the admin confirms from the new address in time."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services.audit import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred
from storage.host.errors import HostError

from .checks import NetworkRefused, check_address, check_dns, check_gateway, check_interface_name
from .host.nm import Device, IPv4Plan
from .models import NetworkChange
from .selectors import change_event, change_open, network_manager, status_id

log = logging.getLogger(__name__)
CHANGE_EVENT = "network.change"


def _check_stepped_up(stepped_up: bool) -> None:
    if not stepped_up:
        raise NetworkRefused(
            deferred("This action needs you to confirm your password again (step-up)."), code="stepup", status=403
        )


# ---------------------------------------------------------------------------- host name
def network_hostname_set(*, user, request, hostname: str) -> bool:
    """Rename the box through Settings → System's own service (step-up, checks, host and audit all there); True if
    changed."""
    from system.services import SystemRefused, system_settings_update

    try:
        changed = system_settings_update(user=user, request=request, hostname=hostname.strip())
    except SystemRefused as exc:
        raise NetworkRefused(exc.message, field=exc.field, code=exc.code, status=exc.status) from exc
    return bool(changed)


# ---------------------------------------------------------------------------- interface changes
def _device(interface: str) -> Device:
    """The device NetworkManager manages under that name: 409 with the reason where it cannot be changed."""
    check_interface_name(interface)
    manager = network_manager()
    status = manager.status()
    if not status.running:
        raise NetworkRefused(
            deferred(
                "NetworkManager is not running here (%(reason)s), so the interface settings are read-only.",
                reason=status.reason,
            ),
            code="read_only",
            status=409,
        )
    device = manager.devices().get(interface)
    if device is None or not device.managed:
        raise NetworkRefused(
            deferred("NetworkManager does not manage %(interface)s.", interface=interface),
            field="interface",
            code="unmanaged",
            status=409,
        )
    return device


def _plan(*, method: str, address: str, gateway: str, dns: list[str]) -> IPv4Plan:
    servers = check_dns(dns)
    if method == NetworkChange.Method.DHCP:
        return IPv4Plan(method="auto", dns=servers)
    if method != NetworkChange.Method.STATIC:
        raise NetworkRefused(deferred("Choose automatic (DHCP) or static."), field="method")
    iface = check_address(address)
    return IPv4Plan(method="manual", address=str(iface), gateway=check_gateway(gateway, iface), dns=servers)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def network_change_request(
    *, user, request, interface: str, method: str, address: str = "", gateway: str = "", dns=(), stepped_up: bool
) -> tuple[NetworkChange, str]:
    """Check everything, record the change and queue it; the change and its confirmation code (shown once)."""
    _check_stepped_up(stepped_up)
    plan = _plan(method=method, address=address, gateway=gateway, dns=list(dns))
    _device(interface)
    if change_open() is not None:
        _refuse_busy()
    token = secrets.token_urlsafe(24)
    change = _change_create(
        interface=interface,
        method=plan.method,
        address=plan.address,
        gateway=plan.gateway,
        dns=list(plan.dns),
        token_hash=_token_hash(token),
        rollback_seconds=settings.NETWORK_ROLLBACK_SECONDS,
        requested_by=user,
    )
    audit_record(actor=user, action="network.change", request=request, target=interface, details=_details(change))
    from .tasks import network_change_apply

    transaction.on_commit(lambda: network_change_apply.delay(change.pk))
    return change, token


def _refuse_busy() -> NoReturn:
    raise NetworkRefused(
        deferred("Another network change is still waiting for its confirmation."), code="busy", status=409
    )


def _change_create(**fields) -> NetworkChange:
    """The new open change; busy when another is open, decided by the database's one-open-change constraint (two
    requests at the same moment both pass change_open(), only one row can be written)."""
    try:
        with transaction.atomic():
            return NetworkChange.objects.create(**fields)
    except IntegrityError:
        _refuse_busy()


def _details(change: NetworkChange) -> dict:
    return {"method": change.method, "address": change.address, "gateway": change.gateway, "dns": change.dns}


def _progress(change: NetworkChange, status: str, step: str = "", error: str = "") -> None:
    change.status, change.step, change.error = status, step, error
    if status not in NetworkChange.OPEN:
        change.finished_at = timezone.now()
    change.save()
    publish(settings.NETWORK_GROUP, CHANGE_EVENT, change_event(change))  # stored ids: the socket says them per reader


def network_change_run(*, change_id: int) -> NetworkChange:
    """The task's work: checkpoint, then the change; NetworkManager undoes it unless confirmed before the deadline."""
    change = NetworkChange.objects.get(pk=change_id)
    if change.status != NetworkChange.Status.QUEUED:  # a redelivered task: the first delivery owns the change
        return change
    try:
        _apply(change)
    except (HostError, NetworkRefused) as exc:
        # A refusal as a message id, said in each reader's words; a tool's failure in its own (nmcli's stderr).
        _progress(
            change, NetworkChange.Status.FAILED, error=exc.stored if isinstance(exc, NetworkRefused) else str(exc)
        )
        _rollback_now(change)
    return change


def _apply(change: NetworkChange) -> None:
    _progress(change, NetworkChange.Status.APPLYING, deferred("taking a checkpoint"))
    device = _device(change.interface)
    manager = network_manager()
    change.checkpoint = manager.checkpoint_create([device], timeout=change.rollback_seconds)
    change.deadline = timezone.now() + timedelta(seconds=change.rollback_seconds)
    _progress(change, NetworkChange.Status.APPLYING, deferred("applying the new settings"))
    plan = IPv4Plan(method=change.method, address=change.address, gateway=change.gateway, dns=tuple(change.dns))
    manager.apply(device, plan)
    _progress(change, NetworkChange.Status.WAITING, deferred("waiting for your confirmation from the new address"))
    from .tasks import network_change_expire

    network_change_expire.apply_async((change.pk,), countdown=change.rollback_seconds + 2)


def _rollback_now(change: NetworkChange) -> None:
    """A change that failed half-way goes back at once (NetworkManager's rollback, not a wait for the timeout)."""
    if not change.checkpoint:
        return
    try:
        network_manager().checkpoint_rollback(change.checkpoint)
    except HostError as exc:
        log.warning("network: rollback of %s failed (NetworkManager's timeout will do it): %s", change.pk, exc)


def network_change_confirm(*, change: NetworkChange, token: str, host: str, user=None, request=None) -> None:
    """Keep the change: the code matches, the request came to the new address, the checkpoint still waits."""
    if not change.token_hash or not hmac.compare_digest(change.token_hash, _token_hash(token or "")):
        raise NetworkRefused(
            deferred("This confirmation code is not the change's."), field="token", code="token", status=403
        )
    if change.status != NetworkChange.Status.WAITING:
        raise NetworkRefused(
            deferred("This change is no longer waiting (%(status)s).", status=status_id(change)), status=409
        )
    if change.new_host and host != change.new_host:
        raise NetworkRefused(
            deferred(
                "Confirm from the new address, %(address)s: reaching it is what proves the change works.",
                address=change.new_host,
            ),
            code="address",
            status=409,
        )
    try:
        kept = network_manager().checkpoint_destroy(change.checkpoint)
    except HostError as exc:
        raise NetworkRefused(
            deferred("NetworkManager did not answer: %(error)s", error=str(exc)), code="host", status=503
        ) from exc
    if not kept:
        _rolled_back(change, request=request)
        raise NetworkRefused(deferred("Too late: NetworkManager has rolled the change back."), code="late", status=409)
    _progress(change, NetworkChange.Status.CONFIRMED, deferred("confirmed"))
    audit_record(actor=user or change.requested_by, action="network.confirm", request=request, target=change.interface)


def _rolled_back(change: NetworkChange, *, request=None) -> None:
    _progress(change, NetworkChange.Status.ROLLED_BACK, deferred("not confirmed in time: the old settings are back"))
    audit_record(
        actor=change.requested_by,
        action="network.rollback",
        request=request,
        target=change.interface,
        details=_details(change),
    )


def network_change_expire(*, change_id: int) -> NetworkChange:
    """After the deadline: a change still unconfirmed was rolled back by NetworkManager; the row says so."""
    with transaction.atomic():
        change = NetworkChange.objects.select_for_update().get(pk=change_id)
        overdue = change.deadline is not None and timezone.now() >= change.deadline
        if change.status == NetworkChange.Status.WAITING and overdue:
            if change.checkpoint in _checkpoints():
                return change  # NetworkManager has not acted yet (a clock apart): the next look will see
            _rolled_back(change)
    return change


def _checkpoints() -> list[str]:
    try:
        return network_manager().checkpoints()
    except HostError:
        return []  # NetworkManager gone (restarted): its checkpoints went with it


def network_changes_expire_overdue() -> int:
    """The beat's safety net for an expire task that was lost: every waiting change past its deadline."""
    overdue = NetworkChange.objects.filter(status=NetworkChange.Status.WAITING, deadline__lte=timezone.now())
    return sum(
        network_change_expire(change_id=pk).status != NetworkChange.Status.WAITING
        for pk in overdue.values_list("pk", flat=True)
    )
