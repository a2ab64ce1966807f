"""Interface changes against a real NetworkManager (1.42, in a namespace, on a private D-Bus) managing a veth:
a static address applied behind a checkpoint, rolled back by NetworkManager itself when not confirmed, and kept
when confirmed from the new address."""

import time

import pytest
from django.test import Client

from accounts.models import AuditEvent
from network import tasks
from network.checks import NetworkRefused
from network.host.nm import IPv4Plan, NetworkManager, plan_settings, split_terse
from network.models import NetworkChange
from network.services import network_change_confirm, network_change_expire, network_change_request, network_change_run
from storage.host.errors import HostError
from tests.clients import logged_in

NEW = "10.231.0.9"


@pytest.fixture
def expire_calls(monkeypatch):
    """The expire task's scheduling, recorded (the test calls the service itself when the time has come)."""
    calls = []
    monkeypatch.setattr(tasks.network_change_expire, "apply_async", lambda args, **kw: calls.append((args, kw)))
    return calls


def inet(nm) -> list[str]:
    """The IPv4 addresses of the namespace's managed veth, as the kernel has them."""
    out = nm.ns.run("ip", "-4", "-o", "addr", "show", "dev", nm.ns.inner)
    return [line.split()[3] for line in out.splitlines()]


def applied(admin_user, django_capture_on_commit_callbacks, **plan) -> tuple[NetworkChange, str]:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        change, code = network_change_request(
            user=admin_user, request=None, interface=plan.pop("interface"), stepped_up=True, **plan
        )
    assert len(queued) == 1  # the task is queued once the row is committed; here the test runs it
    network_change_run(change_id=change.pk)
    change.refresh_from_db()
    return change, code


STATIC = {"method": "manual", "address": f"{NEW}/24", "gateway": "10.231.0.1", "dns": ["10.231.0.53"]}


@pytest.mark.django_db
def test_an_unconfirmed_change_is_rolled_back_by_network_manager(
    private_nm, admin_user, settings, expire_calls, django_capture_on_commit_callbacks
):
    settings.NETWORK_ROLLBACK_SECONDS = 4
    change, _code = applied(admin_user, django_capture_on_commit_callbacks, interface=private_nm.ns.inner, **STATIC)
    assert change.status == "waiting", change.error
    assert inet(private_nm) == [f"{NEW}/24"]
    assert expire_calls == [((change.pk,), {"countdown": 6})]
    assert AuditEvent.objects.get(action="network.change").target == private_nm.ns.inner
    time.sleep(6)  # NetworkManager's own timer, nothing of ours
    assert inet(private_nm) == []
    assert NetworkManager(bus_address=private_nm.address).checkpoints() == []
    network_change_expire(change_id=change.pk)
    change.refresh_from_db()
    assert change.status == "rolled_back"
    assert AuditEvent.objects.filter(action="network.rollback").count() == 1


@pytest.mark.django_db
def test_a_change_confirmed_from_the_new_address_is_kept(
    private_nm, admin_user, settings, expire_calls, django_capture_on_commit_callbacks
):
    settings.NETWORK_ROLLBACK_SECONDS = 4
    change, code = applied(admin_user, django_capture_on_commit_callbacks, interface=private_nm.ns.inner, **STATIC)
    assert change.status == "waiting", change.error
    # From the old address: refused, the change still waits.
    with pytest.raises(NetworkRefused) as refused:
        network_change_confirm(change=change, token=code, host="10.231.0.2")
    assert refused.value.code == "address"
    # At the new address, without a session: the code is the authority.
    page = Client().post(f"/network/confirm/{change.pk}/", {"token": code}, HTTP_HOST=f"{NEW}:8000")
    assert page.status_code == 200 and 'id="confirm-done"' in page.content.decode()
    change.refresh_from_db()
    assert change.status == "confirmed"
    assert NetworkManager(bus_address=private_nm.address).checkpoints() == []
    time.sleep(6)
    assert inet(private_nm) == [f"{NEW}/24"]  # past the timeout: kept
    network_change_expire(change_id=change.pk)
    change.refresh_from_db()
    assert change.status == "confirmed"
    assert AuditEvent.objects.filter(action="network.confirm").count() == 1


@pytest.mark.django_db
def test_a_second_change_waits_for_the_first(
    private_nm, admin_user, settings, expire_calls, django_capture_on_commit_callbacks
):
    settings.NETWORK_ROLLBACK_SECONDS = 30
    change, _code = applied(admin_user, django_capture_on_commit_callbacks, interface=private_nm.ns.inner, **STATIC)
    assert change.status == "waiting"
    with pytest.raises(NetworkRefused) as refused:
        network_change_request(
            user=admin_user, request=None, interface=private_nm.ns.inner, method="auto", stepped_up=True
        )
    assert refused.value.status == 409
    NetworkManager(bus_address=private_nm.address).checkpoint_rollback(change.checkpoint)
    assert inet(private_nm) == []


@pytest.mark.django_db
def test_a_bad_page_form_shows_the_error_on_its_field(private_nm, admin_user):
    name = private_nm.ns.inner
    form = {f"{name}-method": "manual", f"{name}-address": "10.0.0.5/24", f"{name}-gateway": "192.168.9.1"}
    response = logged_in(admin_user, stepped_up=True).post(f"/network/interfaces/{name}/", form)
    assert response.status_code == 400
    assert "The gateway must be another address in 10.0.0.0/24" in response.content.decode()
    assert not NetworkChange.objects.exists()


@pytest.mark.django_db
def test_the_api_reports_the_managed_interface_and_its_dns(private_nm, admin_user):
    body = logged_in(admin_user).get("/api/network/").json()
    assert body["network_manager"] == {"running": True, "reason": ""}
    inner = next(i for i in body["interfaces"] if i["name"] == private_nm.ns.inner)
    assert inner["managed"] is True and inner["read_only_reason"] == ""


# ---------------------------------------------------------------------------- argv level
def test_a_static_plan_becomes_these_nmcli_properties():
    plan = IPv4Plan(method="manual", address="10.0.0.5/24", gateway="10.0.0.1", dns=("1.1.1.1", "9.9.9.9"))
    assert plan_settings(plan) == [
        "ipv4.method", "manual", "ipv4.addresses", "10.0.0.5/24", "ipv4.gateway", "10.0.0.1",
        "ipv4.dns", "1.1.1.1,9.9.9.9", "ipv4.ignore-auto-dns", "yes",
    ]  # fmt: skip


def test_dhcp_clears_the_static_address_and_gateway():
    assert plan_settings(IPv4Plan(method="auto")) == [
        "ipv4.method", "auto", "ipv4.addresses", "", "ipv4.gateway", "", "ipv4.dns", "", "ipv4.ignore-auto-dns", "no",
    ]  # fmt: skip


def test_terse_fields_keep_escaped_colons():
    assert split_terse(r"eth0:ethernet:connected:Wired\: home\\1:/org/x") == [
        "eth0", "ethernet", "connected", "Wired: home\\1", "/org/x",
    ]  # fmt: skip


def test_without_a_bus_network_manager_is_not_running_with_the_reason(tmp_path):
    status = NetworkManager(bus_address=f"unix:path={tmp_path / 'none'}").status()
    assert status.running is False and status.reason == "no system D-Bus to reach it on"


@pytest.mark.django_db
def test_a_change_that_fails_half_way_is_rolled_back_at_once(
    private_nm, admin_user, settings, monkeypatch, expire_calls, django_capture_on_commit_callbacks
):
    settings.NETWORK_ROLLBACK_SECONDS = 60
    manager = NetworkManager(bus_address=private_nm.address)

    def half_way(self, device, plan):
        self._nmcli("connection", "add", "type", "ethernet", "ifname", device.name, "con-name", "half-way")
        raise HostError("nmcli failed", stderr="the profile could not be activated")

    monkeypatch.setattr(NetworkManager, "apply", half_way)
    change, _code = applied(admin_user, django_capture_on_commit_callbacks, interface=private_nm.ns.inner, **STATIC)
    assert change.status == "failed" and "could not be activated" in change.error
    assert manager.checkpoints() == [] and expire_calls == []
    profiles = manager._nmcli("-t", "-f", "NAME", "connection", "show")
    assert "half-way" not in profiles  # made after the checkpoint: deleted by its rollback
