"""The VPN for real, with two network namespaces of this machine: the box's WireGuard interface (wireguard-go here,
this kernel has no WireGuard) made by the apply, and a device using the very file the API gave it with wg-quick. The
device completes a handshake and reaches the admin through the tunnel; once revoked, it reaches nothing."""

import json

import pytest

from tests.clients import logged_in
from vpn.apply import vpn_apply_run
from vpn.models import VpnServer

pytestmark = [pytest.mark.django_db, pytest.mark.serial]
RANGE = "10.78.9.1/24"


@pytest.fixture
def box(settings, pair, key_dir, queued, admin_user):
    """The box's interface lives in the box's namespace; an admin API client with a fresh step-up."""
    settings.VPN_HOST_PREFIX = ["ip", "netns", "exec", pair.box]
    settings.VPN_INTERFACE = "casa-wg0"
    client = logged_in(admin_user, stepped_up=True)
    body = {"enabled": True, "address": RANGE, "listen_port": 51820, "endpoint": "10.232.0.1"}
    assert client.patch("/api/vpn/", json.dumps(body), content_type="application/json").status_code == 200
    return client


def add_device(client, name: str) -> dict:
    response = client.post("/api/vpn/peers/", json.dumps({"name": name}), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def connect(pair, device: dict, tmp_path) -> None:
    """The device side: wg-quick brings the file up as it is (a phone app reads the same file from the QR code)."""
    path = tmp_path / device["filename"]
    path.write_text(device["config"])
    path.chmod(0o600)
    pair.run(pair.device, "wg-quick", "up", str(path))


def fetch_admin(pair, port: int, seconds: int) -> str:
    """What the admin's address in the tunnel answers the device ("" when nothing came back in time)."""
    done = pair.run(
        pair.device, "curl", "-sS", "--max-time", str(seconds), f"http://10.78.9.1:{port}/", check=False, timeout=60
    )
    return done.stdout


def test_a_device_connects_reaches_the_admin_and_not_after_it_is_revoked(box, pair, admin_standin, tmp_path):
    server = vpn_apply_run()
    assert server.state == VpnServer.State.APPLIED, server.error
    assert server.kind == "userspace"  # no kernel WireGuard here: wireguard-go made the interface
    phone = add_device(box, "phone")
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    connect(pair, phone, tmp_path)

    # curl's own retries carry the first packets while the handshake completes: no sleep, only its time limit.
    assert fetch_admin(pair, admin_standin, 30) == "casaos admin"
    listed = {p["id"]: p for p in box.get("/api/vpn/peers/").json()}
    assert listed[phone["id"]]["live"] is True and listed[phone["id"]]["latest_handshake"] > 0
    assert listed[phone["id"]]["endpoint"].startswith("10.232.0.2:")

    assert box.delete(f"/api/vpn/peers/{phone['id']}/").status_code == 204
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    live = pair.run(pair.box, "wg", "show", "casa-wg0", "peers").stdout
    assert phone["public_key"] not in live
    assert fetch_admin(pair, admin_standin, 5) == ""


def test_a_second_device_keeps_working_when_the_first_is_revoked(box, pair, admin_standin, tmp_path):
    laptop, phone = add_device(box, "laptop"), add_device(box, "phone")
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    connect(pair, phone, tmp_path)
    assert box.delete(f"/api/vpn/peers/{laptop['id']}/").status_code == 204
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    assert fetch_admin(pair, admin_standin, 30) == "casaos admin"


def test_turning_it_off_removes_the_interface_and_on_brings_it_back(box, pair):
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    box.patch("/api/vpn/", json.dumps({"enabled": False}), content_type="application/json")
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    assert pair.run(pair.box, "ip", "link", "show", "dev", "casa-wg0", check=False).returncode != 0
    box.patch("/api/vpn/", json.dumps({"enabled": True}), content_type="application/json")
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    assert "listening port: 51820" in pair.run(pair.box, "wg", "show", "casa-wg0").stdout
