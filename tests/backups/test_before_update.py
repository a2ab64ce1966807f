"""Snapshots before app updates (real restic, real engine): taken to the repository chosen for updates, declined per
update, skipped with a word when none is chosen, and the data put back when the update fails and rolls back."""

import pytest

from apps.models import AppEvent
from backups.models import JobRun, Snapshot
from backups.services.before_update import repository_for_updates
from casaos_site.i18n import shown
from runtime import labels as L
from tests.apps.conftest import install_running
from tests.apps.test_change import ONLY_V1, exec_out, get, moving_tag, retag, run  # noqa: F401
from tests.clients import logged_in

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
Outcome = AppEvent.Outcome


def _app(image: str) -> str:
    """A web app that appends the page it serves to its data at each start (a v2 start leaves `hello v2` there), and
    first says in its log what its data held when it started."""
    return f"""
services:
  web:
    image: {image}
    command: ["sh", "-c", "echo start saw: $$(cat /data/seen 2>/dev/null); cat /www/index.html >> /data/seen; exec /bin/httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    stop_grace_period: 1s
    volumes:
      - data:/data{ONLY_V1}
volumes:
  data: {{}}
"""


def _starts(eng, app_name) -> list[str]:
    """What the running container's data held at each of its starts (its log lines)."""
    (container,) = [c for c in eng.list({L.APP: app_name}) if c.running]
    return [line.strip() for line in eng.logs(container.id) if line.startswith("start saw:")]


def _update(admin_user, app_name, image, **options):
    inst = install_running(admin_user, _app(image), app_name)
    retag("2", image.rsplit(":", 1)[1])
    client = logged_in(admin_user)
    response = client.post(f"/api/apps/{inst.pk}/update/", options, content_type="application/json")
    assert response.status_code == 202, response.content
    return run(AppEvent.objects.get(pk=response.json()["event"]), inst), inst


def test_a_failed_update_rolls_back_its_data_too(docker_engine, admin_user, app_name, moving_tag, repository):  # noqa: F811
    repository_for_updates(user=admin_user, repository=repository)

    event, inst = _update(admin_user, app_name, moving_tag)

    assert event.outcome == Outcome.ROLLED_BACK, shown(event.message)
    snap = Snapshot.objects.get(kind="app", subject=app_name, repository=repository)
    assert event.details["data_snapshot"] == snap.short_id and "restored from the snapshot" in shown(event.message)
    assert get(inst.web_port) == "hello v1"
    seen = exec_out(docker_engine, app_name, "cat", "/data/seen")
    assert "v2" not in seen and "hello v1" in seen  # what the failed v2 start wrote is gone, the old data is back
    # Its starts (its log says what its data held at each): installed; started again after the snapshot; then the
    # rollback's one start, on the data put back. It never ran on what v2 left, and was not started twice.
    assert _starts(docker_engine, app_name) == ["start saw:", "start saw: hello v1", "start saw: hello v1"]
    assert JobRun.objects.filter(kind="restore", status="done", details__after_failed_update=app_name).exists()


def test_an_update_can_decline_the_snapshot(docker_engine, admin_user, app_name, moving_tag, repository):  # noqa: F811
    repository_for_updates(user=admin_user, repository=repository)

    event, _inst = _update(admin_user, app_name, moving_tag, backup=False)

    assert event.outcome == Outcome.ROLLED_BACK
    assert not Snapshot.objects.filter(subject=app_name).exists() and "data_snapshot" not in event.details
    assert "v2" in exec_out(docker_engine, app_name, "cat", "/data/seen")  # nothing put the data back


def test_without_a_repository_for_updates_the_result_says_no_snapshot(docker_engine, admin_user, app_name, moving_tag):  # noqa: F811
    event, _inst = _update(admin_user, app_name, moving_tag)

    assert event.outcome == Outcome.ROLLED_BACK
    assert "No data snapshot was taken" in shown(event.message)


def test_one_repository_is_chosen_for_updates_through_the_api(admin_client, admin_user, repository, member_user):
    url = f"/api/backups/repositories/{repository.pk}/"
    assert logged_in(member_user).patch(url, {"for_updates": True}, content_type="application/json").status_code == 403
    answer = admin_client.patch(url, {"for_updates": True}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["for_updates"] is True
    assert admin_client.patch(url, {"for_updates": "x"}, content_type="application/json").status_code == 400
    answer = admin_client.patch(url, {"for_updates": False}, content_type="application/json")
    assert answer.json()["for_updates"] is False
