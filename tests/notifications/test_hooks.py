"""Each built-in rule heard where its event happens: storage events, apps' status, the audit log, start-up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from accounts.services.mfa import mfa_remove
from accounts.services.tokens import api_token_create
from accounts.services.users import user_create, user_update
from apps.models import AppEvent, AppLock, Installation
from casaos_site.events import publish
from casaos_site.i18n import shown
from notifications.boot import boot_start, boot_stop
from notifications.hooks import app_status_notify, app_update_notify
from notifications.models import Notification
from notifications.services import rules_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Installation.Status


def said(kind: str | None = None) -> list[str]:
    rows = Notification.objects.filter(kind=kind) if kind else Notification.objects.all()
    return [shown(n.message) for n in rows]


def test_a_full_disk_is_told_once_over_the_rules_threshold(admin_user):
    data = {"kind": "mount", "id": 3, "name": "Media", "target": "/media/Media", "threshold": 90}
    publish("storage", "storage.space.low", {**data, "used_percent": 91.6})
    publish("storage", "storage.space.low", {**data, "used_percent": 95.0})  # inside the cool-down
    assert said() == ["Media is 92 % full."]


def test_the_disk_rules_threshold_filters(admin_user):
    rules_update(actor=admin_user, changes=[{"key": "storage.space.low", "threshold": 97}])
    publish("storage", "storage.space.low", {"kind": "mount", "id": 3, "name": "Media", "used_percent": 95.0})
    assert said() == []


def test_smart_worse_is_critical(admin_user):
    publish("storage", "storage.health.worse", {"disk": "wwn-0x5000", "reasons": ["reallocated sectors 0 → 8"]})
    note = Notification.objects.get()
    assert note.severity == "critical" and "reallocated sectors 0 → 8" in shown(note.message)


def test_a_hook_failure_never_breaks_the_publisher(admin_user, monkeypatch):
    from notifications import hooks

    monkeypatch.setattr(hooks, "notify", lambda **kw: 1 / 0)
    assert publish("storage", "storage.space.low", {"kind": "mount", "id": 1, "used_percent": 99}) in (True, False)


@pytest.fixture
def app(db):
    return Installation.objects.create(name="web", compose="services: {}", status=S.RUNNING)


def test_an_app_that_stops_by_itself_is_told(admin_user, app):
    app_status_notify(app=app, before=S.RUNNING, status=S.STOPPED, detail="")
    assert said("apps.stopped") == ["web stopped unexpectedly."]


def test_an_app_stopped_by_a_person_is_not(admin_user, app):
    AppLock.objects.create(installation=app, operation="stop")
    app_status_notify(app=app, before=S.RUNNING, status=S.STOPPED, detail="")
    AppLock.objects.all().delete()
    AppEvent.objects.create(installation=app, operation="stop", outcome="done")
    app_status_notify(app=app, before=S.RUNNING, status=S.STOPPED, detail="")
    assert said() == []


def test_an_unhealthy_app_is_told_with_its_detail(admin_user, app):
    from casaos_site.i18n import deferred

    app_status_notify(
        app=app, before=S.RUNNING, status=S.DEGRADED, detail=deferred("Unhealthy: %(services)s", services="db")
    )
    assert said("apps.unhealthy") == ["web is unhealthy: Unhealthy: db"]


def test_a_restart_loop_is_told_once_not_as_a_stop(admin_user, app):
    app.restart_loop = {"db": {"exit_code": 1}}
    app.save()
    AppEvent.objects.create(installation=app, operation="restart_loop", outcome="failed", message="exit 1")
    app_status_notify(app=app, before=S.RUNNING, status=S.STOPPED, detail="")
    assert [n.kind for n in Notification.objects.all()] == ["apps.restart_loop"]


def test_an_update_available_is_told(admin_user, app):
    app_update_notify(app=app)
    assert said("apps.update_available") == ["An update is available for web."]


def test_a_burst_of_failed_logins_over_the_threshold(admin_user):
    rules_update(actor=admin_user, changes=[{"key": "accounts.login_failures", "threshold": 3}])
    for _ in range(2):
        audit_record(action="login.failure", target="admin", details={"username": "admin"})
    assert said() == []
    audit_record(action="login.failure", target="admin", details={"username": "admin"})
    assert said("accounts.login_failures") == ["3 failed logins within 15 minutes, the last one from ?."]


def test_old_failures_do_not_count(admin_user):
    rules_update(actor=admin_user, changes=[{"key": "accounts.login_failures", "threshold": 2}])
    audit_record(action="login.failure", target="admin")
    AuditEvent.objects.update(at=timezone.now() - timedelta(minutes=20))
    audit_record(action="login.failure", target="admin")
    assert said() == []


def test_a_lockout_is_told(admin_user):
    audit_record(action="lockout.started", target="admin@192.0.2.7")
    assert said("accounts.lockout") == ["Logins for admin@192.0.2.7 are locked after repeated failures."]


def test_a_new_admin_is_told_to_admins(admin_user):
    user_create(actor=admin_user, username="eve", password="a long passphrase 1", role=User.Role.ADMIN)
    member = user_create(actor=admin_user, username="bob", password="a long passphrase 2", role=User.Role.MEMBER)
    assert said("accounts.admin_added") == ["eve is now an admin."] * 2  # both admins, eve included
    user_update(actor=admin_user, user=member, role=User.Role.ADMIN, is_active=True, email="")
    assert said("accounts.admin_added").count("bob is now an admin.") == 3


def test_mfa_removed_is_told_to_admins_and_the_person(admin_user):
    member = UserFactory(username="carol")
    mfa_remove(user=member, actor=admin_user)
    assert {n.user.username for n in Notification.objects.filter(kind="accounts.mfa_removed")} == {"admin", "carol"}


def test_a_token_created_is_told_to_admins_and_its_owner(admin_user):
    member = UserFactory(username="dave")
    api_token_create(user=member, name="backup script", scope="read")
    owners = {n.user.username for n in Notification.objects.filter(kind="accounts.token_created")}
    assert owners == {"admin", "dave"}


def test_back_after_an_unclean_shutdown(admin_user, tmp_path):
    marker = tmp_path / "running"
    assert boot_start(marker=marker, current="boot-1") is False  # the first start ever
    assert boot_start(marker=marker, current="boot-1") is False  # our process restarted, the box did not
    assert boot_start(marker=marker, current="boot-2") is True  # the box went down with us running
    boot_stop(marker=marker)
    assert boot_start(marker=marker, current="boot-3") is False  # a clean stop before that reboot
    assert said("system.unclean_shutdown") and len(said()) == 1


def test_a_backup_failure_rule_exists_for_the_backup_issue(admin_user):
    from notifications.services import notify

    notify(kind="backups.failed", params={"name": "nightly", "error": "disk full"}, subject="nightly")
    assert said() == ["The backup nightly failed: disk full"]
