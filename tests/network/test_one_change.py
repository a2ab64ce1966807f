"""One open interface change at a time, held by the database: two requests at the same moment both pass the
service's check, and still only one change is recorded; the other is answered 409 busy (API) with nothing run."""

import json
import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import AuditEvent
from network import services, tasks
from network.checks import NetworkRefused
from network.models import NetworkChange
from tests.clients import logged_in

STATIC = {"method": "manual", "address": "10.231.0.9/24", "gateway": "10.231.0.1", "dns": []}


@pytest.fixture
def managed(monkeypatch):
    """The interface passes as one NetworkManager manages (none runs here), and no task reaches the broker."""
    queued = []
    monkeypatch.setattr(services, "_device", lambda name: None)
    monkeypatch.setattr(tasks.network_change_apply, "delay", lambda *args: queued.append(args))
    return queued


def request_change(user) -> str:
    try:
        services.network_change_request(user=user, request=None, interface="eth0", stepped_up=True, **STATIC)
    except NetworkRefused as exc:
        return f"{exc.status} {exc.code}"
    finally:
        connection.close()  # each thread's own connection
    return "queued"


def test_the_constraint_covers_exactly_the_open_states():
    (constraint,) = NetworkChange._meta.constraints
    assert set(dict(constraint.condition.children)["status__in"]) == set(NetworkChange.OPEN)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_record_one_change(admin_user, managed, monkeypatch):
    both_checked = threading.Barrier(2, timeout=20)

    def check_then_wait():  # the interleaving that loses: both look before either writes
        found = NetworkChange.objects.filter(status__in=NetworkChange.OPEN).first()
        both_checked.wait()
        return found

    monkeypatch.setattr(services, "change_open", check_then_wait)
    results = []
    threads = [threading.Thread(target=lambda: results.append(request_change(admin_user))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Counter(results) == Counter({"queued": 1, "409 busy": 1})
    assert NetworkChange.objects.count() == 1 and len(managed) == 1
    assert AuditEvent.objects.filter(action="network.change").count() == 1


@pytest.mark.django_db
def test_a_request_that_passed_the_check_late_is_answered_busy(admin_user, managed, monkeypatch):
    client = logged_in(admin_user, stepped_up=True)
    first = client.post("/api/network/interfaces/eth0/", json.dumps(STATIC), content_type="application/json")
    assert first.status_code == 202
    monkeypatch.setattr(services, "change_open", lambda: None)  # the check ran before the first row was written
    second = client.post("/api/network/interfaces/eth0/", json.dumps(STATIC), content_type="application/json")
    assert (second.status_code, second.json()["code"]) == (409, "busy")
    assert NetworkChange.objects.count() == 1
    NetworkChange.objects.update(status=NetworkChange.Status.ROLLED_BACK)  # a finished change frees the slot
    third = client.post("/api/network/interfaces/eth0/", json.dumps(STATIC), content_type="application/json")
    assert third.status_code == 202 and NetworkChange.objects.count() == 2
