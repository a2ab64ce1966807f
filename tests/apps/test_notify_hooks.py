"""The notification centre hears the engine: a container stopped outside CasaOS makes an "app stopped" alert
(real Docker; the hook itself is tested in tests/notifications/test_hooks.py)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.models import Installation
from apps.services import app_status_refresh
from casaos_site.i18n import shown
from notifications.models import Notification
from runtime import labels as L
from tests.apps.conftest import HTTPD
from tests.apps.conftest import install_running as install

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
WEB = f"""
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
"""


def test_a_container_stopped_from_outside_notifies_the_admins(docker_engine, admin_user, app_name):
    inst = install(admin_user, WEB, app_name)
    (web,) = docker_engine.list({L.APP: app_name})
    Notification.objects.all().delete()
    # The install just ended: a change this soon is the operation's own. Five minutes later it is news.
    inst.history.update(created_at=timezone.now() - timedelta(minutes=5))

    docker_engine.stop(web.id, timeout=0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and inst.status != S.STOPPED:
        app_status_refresh(eng=docker_engine, name=app_name)  # what the events listener calls per event
        inst.refresh_from_db()
        time.sleep(0.2)
    assert [shown(n.message) for n in Notification.objects.filter(user=admin_user)] == [
        f"{app_name} stopped unexpectedly."
    ]
