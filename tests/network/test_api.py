"""The Network page and API without a NetworkManager (as on this machine): reading, the host name with step-up,
every value checked before anything runs, members and forged requests refused, the read-only answer (409)."""

import hashlib
import json

import pytest
from django.test import Client

from accounts.models import AuditEvent
from network.models import NetworkChange
from tests.clients import logged_in
from tests.system.conftest import fake_host  # noqa: F401 (a fixture: the host name goes to a recorded fake host)

pytestmark = pytest.mark.django_db
API = "/api/network/"


def put_json(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def nothing_changed(fake_host) -> bool:  # noqa: F811
    no_audit = not AuditEvent.objects.filter(action__in=("network.change", "system.settings")).exists()
    return fake_host.commands() == [] and not NetworkChange.objects.exists() and no_audit


# ---------------------------------------------------------------------------- reading
def test_an_admin_reads_interfaces_route_dns_and_hostname(admin_user, fake_host):  # noqa: F811
    body = logged_in(admin_user).get(API).json()
    assert body["hostname"] == "casa-test"
    assert {"interfaces", "default_route", "dns_servers", "lan_url", "network_manager", "change"} <= set(body)
    assert body["network_manager"] == {"running": False, "reason": "no system D-Bus to reach it on"}
    for iface in body["interfaces"]:
        assert {"name", "mac", "state", "speed_mbps", "addresses", "throughput"} <= set(iface)


def test_the_page_says_why_the_settings_are_read_only(admin_user, fake_host):  # noqa: F811
    page = logged_in(admin_user).get("/network/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="network-readonly"' in html and "NetworkManager is not running here" in html
    assert "casa-test" in html and 'ws-connect="/ws/system/?format=json"' in html


# ---------------------------------------------------------------------------- host name
def test_the_host_name_changes_with_step_up_through_the_system_service(admin_user, fake_host):  # noqa: F811
    response = put_json(logged_in(admin_user, stepped_up=True), API + "hostname/", {"hostname": "den-box"})
    assert response.status_code == 200 and response.json()["changed"] is True
    assert fake_host.file("/etc/hostname") == "den-box\n"
    assert AuditEvent.objects.get(action="system.settings").details == {"hostname": "den-box"}


def test_the_host_name_wants_a_fresh_step_up(admin_user, fake_host):  # noqa: F811
    response = put_json(logged_in(admin_user), API + "hostname/", {"hostname": "den-box"})
    assert response.status_code == 403 and response.json()["code"] == "stepup"
    page = logged_in(admin_user).post("/network/hostname/", {"hostname": "den-box"})
    assert page.status_code == 403
    assert nothing_changed(fake_host) and fake_host.file("/etc/hostname") == "casa-test\n"


@pytest.mark.parametrize("name", ["-n", "box\nevil", "a b", "box;reboot", "x" * 64, "bad_name"])
def test_a_bad_host_name_is_refused(admin_user, fake_host, name):  # noqa: F811
    response = put_json(logged_in(admin_user, stepped_up=True), API + "hostname/", {"hostname": name})
    assert response.status_code == 400
    assert nothing_changed(fake_host)


def test_members_and_strangers_cannot_rename_or_change(member_user, fake_host):  # noqa: F811
    for client in (logged_in(member_user, stepped_up=True), Client()):
        assert client.get(API).status_code in (401, 403)
        assert put_json(client, API + "hostname/", {"hostname": "taken"}).status_code in (401, 403)
        assert post_json(client, API + "interfaces/eth0/", {"method": "auto"}).status_code in (401, 403)
        assert client.post("/network/hostname/", {"hostname": "taken"}).status_code in (302, 403)
    assert nothing_changed(fake_host)


def test_forged_page_posts_are_refused_by_csrf(admin_user, fake_host):  # noqa: F811
    client = logged_in(admin_user, stepped_up=True, csrf=True)
    assert client.post("/network/hostname/", {"hostname": "forged"}).status_code == 403
    assert client.post("/network/interfaces/eth0/", {"eth0-method": "auto"}).status_code == 403
    assert put_json(client, API + "hostname/", {"hostname": "forged"}).status_code == 403
    assert nothing_changed(fake_host)


# ---------------------------------------------------------------------------- interfaces
def test_without_network_manager_a_change_is_409_with_the_reason(admin_user, fake_host):  # noqa: F811
    client = logged_in(admin_user, stepped_up=True)
    response = post_json(client, API + "interfaces/eth0/", {"method": "auto"})
    assert response.status_code == 409 and response.json()["code"] == "read_only"
    assert "NetworkManager is not running here (no system D-Bus" in response.json()["detail"]
    assert nothing_changed(fake_host)


def test_an_interface_change_wants_a_fresh_step_up(admin_user, fake_host):  # noqa: F811
    response = post_json(logged_in(admin_user), API + "interfaces/eth0/", {"method": "auto"})
    assert response.status_code == 403 and response.json()["code"] == "stepup"
    assert nothing_changed(fake_host)


BAD = [
    ("eth0", {"method": "manual", "address": "10.0.0.5"}, "address"),  # no prefix length
    ("eth0", {"method": "manual", "address": "10.0.0.5/24\nipv4.method auto"}, "address"),
    ("eth0", {"method": "manual", "address": "-10.0.0.5/24"}, "address"),
    ("eth0", {"method": "manual", "address": "10.0.0.0/24"}, "address"),  # the network itself
    ("eth0", {"method": "manual", "address": "127.0.0.5/8"}, "address"),
    ("eth0", {"method": "manual", "address": "10.0.0.5/24", "gateway": "10.9.9.1"}, "gateway"),  # other subnet
    ("eth0", {"method": "manual", "address": "10.0.0.5/24", "gateway": "--help"}, "gateway"),
    ("eth0", {"method": "auto", "dns": ["1.1.1.1", "ipv4.never-default"]}, "dns"),
    ("eth0", {"method": "auto", "dns": ["1.1.1.1,9.9.9.9"]}, "dns"),
    ("eth0", {"method": "auto", "dns": ["1.1.1.1", "1.0.0.1", "9.9.9.9", "8.8.8.8"]}, "dns"),
    ("-eth0", {"method": "auto"}, "interface"),
    ("eth0 up", {"method": "auto"}, "interface"),
    ("ifname", {"method": "bridge"}, "method"),
]


@pytest.mark.parametrize(("name", "body", "field"), BAD)
def test_bad_values_never_reach_nmcli(admin_user, fake_host, name, body, field):  # noqa: F811
    response = post_json(logged_in(admin_user, stepped_up=True), API + f"interfaces/{name}/", body)
    assert response.status_code == 400 and field in response.json()
    assert nothing_changed(fake_host)


def test_the_confirmation_page_refuses_a_wrong_code(admin_user, fake_host):  # noqa: F811
    change = NetworkChange.objects.create(
        interface="eth0", method="manual", address="10.0.0.5/24", status="waiting", token_hash="0" * 64
    )
    response = Client().post(f"/network/confirm/{change.pk}/", {"token": "guess"}, HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.status == "waiting"


def test_the_page_still_answers_when_ip_cannot_be_run(admin_user, fake_host, settings):  # noqa: F811
    settings.NETWORK_HOST_PREFIX = ["/nonexistent/netns-exec"]
    body = logged_in(admin_user).get(API).json()
    assert body["interfaces"] == [] and "is not installed" in body["error"]
    page = logged_in(admin_user).get("/network/")
    assert page.status_code == 200 and 'id="network-error"' in page.content.decode()


def test_a_confirmation_network_manager_cannot_take_is_503_and_the_change_still_waits(fake_host):  # noqa: F811
    code = "right-code"
    change = NetworkChange.objects.create(
        interface="eth0",
        method="manual",
        address="10.0.0.5/24",
        status="waiting",
        checkpoint="/org/freedesktop/NetworkManager/Checkpoint/7",
        token_hash=hashlib.sha256(code.encode()).hexdigest(),
    )
    client = Client()
    assert client.post(f"/network/confirm/{change.pk}/", {"token": code}, HTTP_HOST="10.0.0.9:8000").status_code == 409
    response = client.post(f"/network/confirm/{change.pk}/", {"token": code}, HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 503 and "NetworkManager did not answer" in response.content.decode()
    change.refresh_from_db()
    assert change.status == "waiting"
