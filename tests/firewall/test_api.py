"""GET /api/firewall/ and the Network page's section: admins see what is open and to whom; members and anonymous
callers see nothing; a change to an app's ports or its public flag queues the one re-apply task."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from apps.models import Installation
from apps.services.operation import install_history_close
from firewall.tasks import firewall_apply
from proxy.models import AppAddress
from tests.clients import logged_in

pytestmark = pytest.mark.django_db
API = "/api/firewall/"
# No nft on the host is read while the firewall is off; the LAN is given, not read from the interfaces.
QUIET = {"FIREWALL": False, "FIREWALL_LAN": ["192.168.1.0/24"], "FIREWALL_ADMIN_PORTS": [8000]}


@pytest.fixture
def apps(db):
    shown = Installation.objects.create(name="shown", title="<b>Shown</b>", compose="x", ports=["tcp/8443"])
    AppAddress.objects.create(installation=shown, name="shown", public=True)
    Installation.objects.create(name="private", compose="x", ports=["tcp/8080", "udp/5353"])
    return shown


@override_settings(**QUIET)
def test_an_admin_sees_each_port_and_who_may_reach_it(admin_user, apps):
    body = logged_in(admin_user).get(API).json()
    assert body["enabled"] is False and body["state"] == "off"
    assert body["lan"] == ["192.168.1.0/24"]
    assert body["admin"] == [{"protocol": "tcp", "port": 8000, "access": "lan"}]
    seen = {(p["app"], p["protocol"], p["port"], p["access"]) for p in body["ports"]}
    assert seen == {("shown", "tcp", 8443, "public"), ("private", "tcp", 8080, "lan"), ("private", "udp", 5353, "lan")}


@override_settings(**QUIET)
def test_members_and_strangers_are_refused(member_user, apps):
    assert logged_in(member_user).get(API).status_code == 403
    assert Client().get(API).status_code in (401, 403)


@override_settings(**QUIET)
def test_the_network_page_shows_the_same_with_names_escaped(admin_user, apps):
    html = logged_in(admin_user).get("/network/").content.decode()
    assert 'id="firewall"' in html and 'id="firewall-off"' in html
    assert 'data-port="tcp/8443" data-access="public"' in html
    assert 'data-port="tcp/8080" data-access="lan"' in html
    assert 'data-port="tcp/8000"' in html
    assert "&lt;b&gt;Shown&lt;/b&gt;" in html and "<b>Shown</b>" not in html


@override_settings(FIREWALL=True)
def test_a_public_flag_change_queues_the_apply_task(apps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        AppAddress.objects.filter(installation=apps).first().save()
    assert [c.__self__.name for c in callbacks] == [firewall_apply.name]


@override_settings(FIREWALL=True)
def test_an_ended_install_queues_the_apply_task(apps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        install_history_close(installation=apps, outcome="done")
    assert [c.__self__.name for c in callbacks] == [firewall_apply.name]


@override_settings(FIREWALL=False)
def test_nothing_is_queued_while_the_firewall_is_off(apps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        AppAddress.objects.filter(installation=apps).first().save()
    assert callbacks == []


def test_the_schema_documents_the_endpoint(admin_user):
    schema = logged_in(admin_user).get("/api/schema/").content
    assert b"/api/firewall/:" in schema and b"FirewallOpening" in schema
