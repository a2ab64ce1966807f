"""GET /metrics: the text format (read back by prometheus-client's parser), what it counts, and who may read it."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from accounts.services.tokens import api_token_create
from apps.models import Installation
from apps.services.operation import install_history_close
from monitoring.counters import COUNTERS_KEY, counter_add
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
DASHBOARD = Path(settings.BASE_DIR) / "docs" / "grafana-dashboard.json"


@pytest.fixture(autouse=True)
def counters_cleared(redis_client, metrics_dir):
    redis_client.delete(COUNTERS_KEY)
    yield
    redis_client.delete(COUNTERS_KEY)


def _token(user, scope="read") -> str:
    return api_token_create(user=user, name="prometheus", scope=scope)[1]


def _scrape(client: Client | None = None, **headers):
    return (client or Client()).get("/metrics", **headers)


def _samples(response) -> dict[str, list]:
    """Sample name -> [(labels, value)], parsed as Prometheus parses it."""
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _value(samples, name, **labels):
    return next(v for found, v in samples[name] if all(found.get(k) == x for k, x in labels.items()))


def test_an_admins_token_reads_every_figure_in_the_text_format(admin_user):
    Installation.objects.create(name="web", compose="services: {}", status=Installation.Status.RUNNING)
    response = _scrape(HTTP_AUTHORIZATION=f"Bearer {_token(admin_user)}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response)
    assert 0 <= _value(samples, "casaos_cpu_usage_percent") <= 100
    assert _value(samples, "casaos_memory_total_bytes") > 0
    assert _value(samples, "casaos_app_up", app="web") == 1
    assert _value(samples, "casaos_apps", status="running") == 1
    assert {labels["queue"] for labels, _ in samples["casaos_celery_queue_length"]} == {"celery", "long"}
    assert "casaos_filesystem_size_bytes" in samples
    assert "lo" not in {labels.get("interface") for labels, _ in samples.get("casaos_network_receive_bytes_total", [])}


def test_it_counts_logins_installs_uploads_and_failed_tasks(admin_user):
    member = UserFactory(username="counted")
    Client().login(username="counted", password=PASSWORD)
    Client().login(username="counted", password="wrong")
    app = Installation.objects.create(name="web", compose="services: {}", status=Installation.Status.RUNNING)
    install_history_close(installation=app, outcome="failed", message="no")
    counter_add("uploads")
    from celery.signals import task_failure

    task_failure.send(sender=type("T", (), {"name": "apps.install"})(), task_id="1", exception=RuntimeError())
    samples = _samples(_scrape(HTTP_AUTHORIZATION=f"Bearer {_token(admin_user)}"))
    assert _value(samples, "casaos_logins_total", result="success") == 1
    assert _value(samples, "casaos_logins_total", result="failure") == 1
    assert _value(samples, "casaos_installs_total", outcome="failed") == 1
    assert _value(samples, "casaos_uploads_total") == 1
    assert _value(samples, "casaos_task_failures_total", task="apps.install") == 1
    assert member.pk


def test_no_credentials_is_a_401_asking_for_a_bearer_token(admin_user):
    response = _scrape()
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert b"casaos_" not in response.content


def test_a_wrong_token_is_a_401():
    for header in ("Bearer casa_nottherealone", "Bearer garbage", "Basic YWRtaW46eA=="):
        response = _scrape(HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert b"casaos_" not in response.content


def test_a_members_token_is_refused_since_metrics_name_every_app(member_user):
    response = _scrape(HTTP_AUTHORIZATION=f"Bearer {_token(member_user)}")
    assert response.status_code == 403
    assert b"casaos_" not in response.content


def test_an_admins_session_without_a_token_is_refused(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert _scrape(client).status_code == 401


def test_an_allowed_scraper_address_needs_no_token(settings):
    settings.METRICS_SCRAPERS = ["192.0.2.0/24"]
    assert _scrape(REMOTE_ADDR="192.0.2.9").status_code == 200
    assert _scrape(REMOTE_ADDR="198.51.100.9").status_code == 401


def test_a_forged_forwarded_address_is_not_an_allowed_scraper(settings):
    settings.METRICS_SCRAPERS = ["192.0.2.9"]
    settings.TRUSTED_PROXIES = []
    response = _scrape(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert response.status_code == 401


def test_every_metric_the_grafana_dashboard_queries_is_in_metrics(admin_user):
    samples = _samples(_scrape(HTTP_AUTHORIZATION=f"Bearer {_token(admin_user)}"))
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queried = {name for expr in exprs for name in re.findall(r"\b(casaos_[a-z0-9_]+)", expr)}
    assert len(queried) >= 20
    # Counters that have not counted anything yet have no sample; their family is still declared.
    declared = {
        line.split()[2]
        for line in _scrape(HTTP_AUTHORIZATION=f"Bearer {_token(admin_user)}").content.decode().splitlines()
        if line.startswith("# TYPE")
    }
    known = set(samples) | declared | {f"{name}_total" for name in declared}
    assert queried <= known, queried - known
