"""GET /api/system/metrics/: ranges, one app's series, and who may see which app."""

import time

import pytest
from django.test import Client

from apps.models import AppGrant, Installation
from monitoring import store

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def apps_with_history(metrics_dir):
    shown = Installation.objects.create(name="shown", compose="services: {}", status=Installation.Status.RUNNING)
    hidden = Installation.objects.create(name="hidden", compose="services: {}", status=Installation.Status.RUNNING)
    now = time.time() - 20
    store.store_write(
        metrics_dir,
        {
            ("host", "cpu"): 12.5,
            ("host", "net", "eth0", "rx"): 100.0,
            ("app", str(shown.pk), "cpu"): 3.0,
            ("app", str(hidden.pk), "cpu"): 4.0,
        },
        when=now,
    )
    return shown, hidden


@pytest.mark.parametrize(("name", "step", "points"), [("1h", 10, 360), ("24h", 60, 1440), ("30d", 1800, 1440)])
def test_it_answers_each_range_with_shared_times_and_the_hosts_series(
    member_user, apps_with_history, name, step, points
):
    body = _client(member_user).get(f"/api/system/metrics/?range={name}").json()
    assert body["range"] == name and body["step"] == step
    assert points <= len(body["times"]) <= points + 1
    series = {s["key"]: s for s in body["series"]}
    assert set(series) == {"cpu", "net|eth0|rx"}  # the apps' series are not the host's
    assert series["cpu"]["chart"] == "cpu" and series["cpu"]["unit"] == "%"
    assert 12.5 in series["cpu"]["values"] and len(series["cpu"]["values"]) == len(body["times"])
    assert series["net|eth0|rx"]["chart"] == "network"


def test_a_bad_range_is_a_400_naming_the_ranges(member_user, metrics_dir):
    response = _client(member_user).get("/api/system/metrics/?range=7d")
    assert response.status_code == 400
    assert "1h, 24h, 30d" in response.json()["range"][0]


@pytest.mark.parametrize("app", ["x", "-1", "1" * 20])
def test_a_bad_app_is_a_400(member_user, metrics_dir, app):
    assert _client(member_user).get(f"/api/system/metrics/?app={app}").status_code == 400


def test_a_member_sees_a_granted_apps_series_and_not_another(member_user, apps_with_history):
    shown, hidden = apps_with_history
    AppGrant.objects.create(installation=shown, user=member_user)
    client = _client(member_user)
    body = client.get(f"/api/system/metrics/?range=1h&app={shown.pk}").json()
    assert [s["key"] for s in body["series"]] == ["cpu"] and 3.0 in body["series"][0]["values"]
    assert client.get(f"/api/system/metrics/?range=1h&app={hidden.pk}").status_code == 404
    assert client.get("/api/system/metrics/?range=1h&app=99999").status_code == 404


def test_an_admin_sees_any_apps_series(admin_user, apps_with_history):
    _shown, hidden = apps_with_history
    body = _client(admin_user).get(f"/api/system/metrics/?range=24h&app={hidden.pk}").json()
    assert 4.0 in body["series"][0]["values"]


def test_anonymous_is_refused(metrics_dir):
    assert Client().get("/api/system/metrics/").status_code in (401, 403)
