"""The VPN API and page without touching the host (every command goes to the tests' recorder): settings and devices
with step-up, the device's key shown once and stored nowhere, revoking, refusals, members and forged requests."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import AuditEvent
from tests.clients import logged_in
from vpn.apply import vpn_apply_run
from vpn.models import VpnPeer, VpnServer
from vpn.services import key_path

pytestmark = pytest.mark.django_db
API = "/api/vpn/"
PEERS = API + "peers/"


def patch_json(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def post_json(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def admin(admin_user, key_dir, queued):
    return logged_in(admin_user, stepped_up=True)


@pytest.fixture
def recorded(settings, tmp_path):
    """The host commands the apply ran, each an argv (the recorder runs none of them)."""
    log = tmp_path / "vpn-host.log"
    settings.VPN_HOST_PREFIX = [*settings.VPN_HOST_PREFIX[:2], str(log)]
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def enable(client, **more):
    return patch_json(client, API, {"enabled": True, "endpoint": "vpn.example.org", **more})


# ---------------------------------------------------------------------------- server settings
def test_it_reads_the_defaults_from_the_settings(admin):
    body = admin.get(API).json()
    assert body["address"] == settings.VPN_ADDRESS and body["listen_port"] == settings.VPN_PORT
    assert body["enabled"] is False and body["interface"] == settings.VPN_INTERFACE


def test_turning_it_on_makes_the_key_audits_and_queues_the_apply(admin, key_dir, queued):
    response = enable(admin, listen_port=51999, address="10.66.0.1/24", dns="10.66.0.1", routes="192.168.1.0/24")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["enabled"] is True and body["state"] == "pending" and body["listen_port"] == 51999
    assert len(body["public_key"]) == 44 and queued() == [()]
    key = key_path()
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700
    assert key.read_text().strip() not in json.dumps(body)
    assert AuditEvent.objects.get(action="vpn.settings").details["enabled"] is True


def test_settings_want_a_fresh_step_up(admin_user, key_dir, queued):
    response = patch_json(logged_in(admin_user), API, {"enabled": True})
    assert response.status_code == 403 and response.json()["code"] == "stepup"
    assert queued() == [] and not VpnServer.objects.filter(enabled=True).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("endpoint", "box\n[Peer]"),
        ("address", "10.0.0.0/24"),
        ("address", "nonsense"),
        ("dns", "1.1.1.1, evil\nPostUp = rm -rf /"),
        ("routes", "10.0.0.0/8\n[Peer]"),
        ("listen_port", 70000),
    ],
)
def test_it_refuses_values_that_are_not_what_they_claim(admin, queued, field, value):
    response = patch_json(admin, API, {field: value})
    assert response.status_code == 400 and field in response.json()
    assert queued() == [] and not AuditEvent.objects.filter(action="vpn.settings").exists()


def test_the_range_cannot_leave_devices_outside(admin):
    enable(admin, address="10.66.0.1/24")
    post_json(admin, PEERS, {"name": "phone"})
    response = patch_json(admin, API, {"address": "10.67.0.1/24"})
    assert response.status_code == 409 and "address" in response.json()


# ---------------------------------------------------------------------------- devices
def test_a_new_device_gets_its_config_and_qr_once_and_only_its_public_key_is_kept(admin, queued):
    enable(admin, address="10.66.0.1/24", listen_port=51999)
    response = post_json(admin, PEERS, {"name": "Anna's phone"})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["address"] == "10.66.0.2" and body["filename"] == "wg-Anna-s-phone.conf"
    assert body["qr_svg"].startswith("data:image/svg+xml;base64,")
    lines = dict(line.split(" = ", 1) for line in body["config"].splitlines() if " = " in line)
    assert lines["Endpoint"] == "vpn.example.org:51999" and lines["Address"] == "10.66.0.2/32"
    private = lines["PrivateKey"]
    peer = VpnPeer.objects.get()
    assert peer.public_key == body["public_key"] != private
    stored = json.dumps(list(VpnPeer.objects.values()) + list(VpnServer.objects.values()), default=str)
    stored += json.dumps(list(AuditEvent.objects.values("details")), default=str)
    assert private not in stored
    assert private not in json.dumps(admin.get(PEERS).json()) and "config" not in admin.get(PEERS).json()[0]
    assert queued() == [(), ()]


def test_the_endpoint_defaults_to_the_address_the_admin_uses(admin):
    patch_json(admin, API, {"enabled": True})
    body = post_json(admin, PEERS, {"name": "laptop"}, HTTP_HOST="192.168.1.20:8000").json()
    assert f"Endpoint = 192.168.1.20:{settings.VPN_PORT}" in body["config"]


def test_adding_a_device_wants_a_fresh_step_up(admin_user, key_dir, queued):
    response = post_json(logged_in(admin_user), PEERS, {"name": "phone"})
    assert response.status_code == 403 and response.json()["code"] == "stepup" and not VpnPeer.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_device_needs_a_name(admin, name):
    response = post_json(admin, PEERS, {"name": name})
    assert response.status_code == 400 and not VpnPeer.objects.exists()


def test_devices_get_addresses_of_their_own_and_a_full_range_is_refused(admin):
    enable(admin, address="10.66.0.1/29")
    addresses = [post_json(admin, PEERS, {"name": f"d{i}"}).json()["address"] for i in range(5)]
    assert addresses == [f"10.66.0.{i}" for i in range(2, 7)]
    assert post_json(admin, PEERS, {"name": "one more"}).status_code == 400


def test_revoking_deletes_the_device_audits_and_queues_the_apply(admin, queued):
    enable(admin)
    peer_id = post_json(admin, PEERS, {"name": "phone"}).json()["id"]
    assert admin.delete(f"{PEERS}{peer_id}/").status_code == 204
    assert not VpnPeer.objects.exists() and AuditEvent.objects.filter(action="vpn.peer.revoke").exists()
    assert len(queued()) == 3 and admin.delete(f"{PEERS}{peer_id}/").status_code == 404


def test_members_and_anonymous_callers_reach_nothing(member_user, admin, key_dir):
    enable(admin)
    peer_id = post_json(admin, PEERS, {"name": "phone"}).json()["id"]
    member = logged_in(member_user, stepped_up=True)
    assert member.get(PEERS).status_code == 403 and member.get(API).status_code == 403
    assert post_json(member, PEERS, {"name": "mine"}).status_code == 403
    assert member.delete(f"{PEERS}{peer_id}/").status_code == 403
    assert member.get("/network/vpn/").status_code == 403
    assert VpnPeer.objects.count() == 1


def test_a_forged_form_is_refused_by_csrf(admin_user, key_dir, queued):
    client = logged_in(admin_user, stepped_up=True, csrf=True)
    assert client.post("/network/vpn/peers/", {"name": "x"}).status_code == 403
    assert patch_json(client, API, {"enabled": True}).status_code == 403
    assert not VpnPeer.objects.exists() and queued() == []


# ---------------------------------------------------------------------------- the apply, recorded
def test_the_apply_gives_wg_the_keys_on_stdin_never_on_a_command_line(admin, recorded):
    enable(admin)
    post_json(admin, PEERS, {"name": "phone"})
    server = vpn_apply_run()
    assert server.state == VpnServer.State.APPLIED and server.error == ""
    commands = recorded()
    name = settings.VPN_INTERFACE
    assert ["wg", "setconf", name, "/dev/stdin"] in commands
    assert ["ip", "address", "add", "10.77.0.1/24", "dev", name] in commands
    private = key_path().read_text().strip()
    assert all(private not in " ".join(argv) for argv in commands)


def test_turning_it_off_makes_no_interface(admin, recorded, settings):
    patch_json(admin, API, {"enabled": False})
    assert vpn_apply_run().state == VpnServer.State.APPLIED
    assert not any(argv[:2] == ["wg", "setconf"] for argv in recorded())


def test_a_failing_tool_leaves_the_reason_on_the_server(admin, settings):
    enable(admin)
    settings.VPN_HOST_PREFIX = ["false"]
    server = vpn_apply_run()
    assert server.state == VpnServer.State.FAILED and "WireGuard could not be configured" in server.error
    assert admin.get(API).json()["state"] == "failed"


# ---------------------------------------------------------------------------- the page
def test_the_page_shows_the_new_device_once(admin):
    enable(admin)
    page = admin.post("/network/vpn/peers/", {"name": "Anna's phone"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="vpn-created"' in html and 'src="data:image/svg+xml;base64,' in html
    assert 'download="wg-Anna-s-phone.conf"' in html and "no-store" in page["Cache-Control"]
    private = html.split("PrivateKey = ", 1)[1].split("\n", 1)[0]
    again = admin.get("/network/vpn/").content.decode()
    assert 'id="vpn-created"' not in again and private not in again and "Anna&#x27;s phone" in again


def test_the_page_says_what_a_refusal_is_about(admin_user, key_dir, queued):
    page = logged_in(admin_user).post("/network/vpn/peers/", {"name": "phone"})
    assert page.status_code == 403 and "step-up" in page.content.decode()
    page = logged_in(admin_user, stepped_up=True).post("/network/vpn/settings/", {"address": "x", "listen_port": 1})
    assert page.status_code == 400 and 'class="form-error"' in page.content.decode()


def test_revoking_from_the_page(admin):
    enable(admin)
    peer_id = post_json(admin, PEERS, {"name": "phone"}).json()["id"]
    response = admin.post(f"/network/vpn/peers/{peer_id}/revoke/")
    assert response.status_code == 302 and not VpnPeer.objects.exists()


def test_the_network_page_links_to_the_vpn(admin):
    assert 'id="network-vpn-link"' in admin.get("/network/").content.decode()


def test_no_device_key_is_written_to_the_key_folder(admin, key_dir):
    enable(admin)
    post_json(admin, PEERS, {"name": "phone"})
    assert sorted(p.name for p in Path(key_dir).iterdir()) == ["server.key"]


def test_the_server_panel_is_polled_only_while_an_apply_runs(admin):
    enable(admin)
    assert "data-poll" in admin.get("/network/vpn/state/").content.decode()
    vpn_apply_run()
    panel = admin.get("/network/vpn/state/").content.decode()
    assert 'id="vpn-server"' in panel and "data-poll" not in panel
