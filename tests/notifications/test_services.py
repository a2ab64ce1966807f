"""notify(): the rule's audience, deferred translation, cool-down, per-user routing; read, dismiss, clean-up."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from casaos_site.i18n import shown
from notifications.models import Channel, Delivery, Firing, Notification, Rule
from notifications.services import (
    notification_dismiss,
    notification_mark,
    notifications_cleanup,
    notifications_of,
    notifications_read_all,
    notify,
    rule_get,
    rules_update,
    unread_count,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_tells_every_admin_and_no_member(admin_user, member_user):
    other_admin = UserFactory(admin=True)
    assert notify(kind="apps.stopped", params={"app": "web"}, subject="web") == 2
    assert {n.user for n in Notification.objects.all()} == {admin_user, other_admin}
    assert not Notification.objects.filter(user=member_user).exists()


def test_it_names_a_member_when_asked(admin_user, member_user):
    notify(kind="accounts.mfa_removed", params={"user": "member"}, users=[member_user], roles=())
    assert list(Notification.objects.values_list("user", flat=True)) == [member_user.pk]


def test_it_shows_each_reader_their_own_language(admin_user):
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    stored = Notification.objects.get().message
    assert "web" in stored and shown(stored) == "web stopped unexpectedly."
    with translation.override("de"):
        assert shown(stored)  # never raises; a German catalogue entry shows German once translated


def test_it_sends_one_message_per_cooldown_for_a_flapping_condition(admin_user):
    sent = [notify(kind="apps.stopped", params={"app": "web"}, subject="web") for _ in range(5)]
    assert sent == [1, 0, 0, 0, 0]
    assert Notification.objects.count() == 1
    assert Firing.objects.get(rule="apps.stopped", subject="web").suppressed == 4


def test_its_cooldown_is_per_subject_and_ends(admin_user):
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    assert notify(kind="apps.stopped", params={"app": "db"}, subject="db") == 1
    Firing.objects.filter(subject="web").update(last_at=timezone.now() - timedelta(minutes=61))
    assert notify(kind="apps.stopped", params={"app": "web"}, subject="web") == 1


def test_a_rule_turned_off_says_nothing(admin_user):
    rules_update(actor=admin_user, changes=[{"key": "apps.stopped", "enabled": False}])
    assert notify(kind="apps.stopped", params={"app": "web"}, subject="web") == 0
    assert not Notification.objects.exists()


def test_a_rule_without_threshold_keeps_none(admin_user):
    rules_update(actor=admin_user, changes=[{"key": "apps.stopped", "threshold": 5}])
    assert rule_get("apps.stopped").threshold is None


def test_it_routes_per_user_and_per_rule(admin_user, django_capture_on_commit_callbacks):
    other = UserFactory(admin=True)
    Channel.objects.create(user=admin_user, kind="email", address="a@example.test", rules=["apps.stopped"])
    Channel.objects.create(user=other, kind="email", address="b@example.test", rules=["storage.space.low"])
    Channel.objects.create(user=other, kind="inapp", rules=["storage.space.low"])  # the bell: only disks
    with django_capture_on_commit_callbacks():
        notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    assert list(Delivery.objects.values_list("channel__address", flat=True)) == ["a@example.test"]
    assert list(Notification.objects.values_list("user", flat=True)) == [admin_user.pk]


def test_a_disabled_channel_gets_nothing(admin_user):
    Channel.objects.create(user=admin_user, kind="email", address="a@example.test", enabled=False)
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    assert not Delivery.objects.exists()


def test_read_unread_dismiss_and_read_all(admin_user):
    for app in ("a", "b", "c"):
        notify(kind="apps.stopped", params={"app": app}, subject=app)
    first, second, _third = notifications_of(user=admin_user)
    notification_mark(user=admin_user, pk=first.pk)
    assert unread_count(user=admin_user) == 2
    notification_mark(user=admin_user, pk=first.pk, read=False)
    notification_dismiss(user=admin_user, pk=second.pk)
    assert unread_count(user=admin_user) == 2 and notifications_of(user=admin_user).count() == 2
    assert notifications_read_all(user=admin_user) == 2 and unread_count(user=admin_user) == 0


def test_a_user_cannot_touch_another_users_notification(admin_user, member_user):
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    note = Notification.objects.get()
    with pytest.raises(Notification.DoesNotExist):
        notification_mark(user=member_user, pk=note.pk)
    with pytest.raises(Notification.DoesNotExist):
        notification_dismiss(user=member_user, pk=note.pk)
    assert Notification.objects.get().read_at is None


def test_it_keeps_90_days(admin_user):
    notify(kind="apps.stopped", params={"app": "old"}, subject="old")
    notify(kind="apps.stopped", params={"app": "new"}, subject="new")
    Notification.objects.filter(message__contains="old").update(created_at=timezone.now() - timedelta(days=91))
    notifications_cleanup()
    assert [shown(n.message) for n in Notification.objects.all()] == ["new stopped unexpectedly."]


def test_rule_changes_are_audited(admin_user):
    from accounts.models import AuditEvent

    rules_update(actor=admin_user, changes=[{"key": "storage.space.low", "threshold": 80, "cooldown_minutes": 5}])
    rule = Rule.objects.get(key="storage.space.low")
    assert (rule.threshold, rule.cooldown_minutes) == (80, 5)
    assert AuditEvent.objects.filter(action="notifications.rule", target="storage.space.low").exists()
