"""The API: each person's own list and channels, rules read by all and changed by admins, SMTP for admins, CSRF."""

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from notifications.models import Channel, Notification, Rule, SmtpSettings
from notifications.services import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def two_notes(admin_user, member_user):
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    notify(kind="accounts.mfa_removed", params={"user": "member"}, users=[member_user], roles=())
    return Notification.objects.get(user=admin_user), Notification.objects.get(user=member_user)


def test_it_lists_only_the_callers_own(two_notes, member_user):
    answer = client_for(member_user).get("/api/notifications/").json()
    assert [n["id"] for n in answer["results"]] == [two_notes[1].pk]
    assert answer["results"][0]["message"] == "Two-factor login was removed from member."


def test_it_answers_in_the_callers_language(two_notes, member_user):
    member_user.language = "de"
    member_user.save()
    answer = client_for(member_user).get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="de").json()
    assert answer["results"][0]["title"]  # the German catalogue's, once translated; never an error


def test_read_unread_and_dismiss_own(two_notes, admin_user):
    note, client = two_notes[0], client_for(admin_user)
    assert client.post(f"/api/notifications/{note.pk}/read/").json()["read_at"]
    assert client.get("/api/notifications/?unread=1").json()["results"] == []
    assert client.post(f"/api/notifications/{note.pk}/unread/").json()["read_at"] is None
    assert client.post(f"/api/notifications/{note.pk}/dismiss/").status_code == 204
    assert client.get("/api/notifications/").json()["results"] == []


def test_a_member_cannot_read_or_change_another_users_notification(two_notes, member_user):
    admins_note, client = two_notes[0], client_for(member_user)
    for action in ("read", "unread", "dismiss"):
        assert client.post(f"/api/notifications/{admins_note.pk}/{action}/").status_code == 404
    admins_note.refresh_from_db()
    assert admins_note.read_at is None and admins_note.dismissed_at is None


def test_rules_are_read_by_members_and_changed_by_admins(admin_user, member_user):
    rules = client_for(member_user).get("/api/notifications/rules/").json()
    disk = next(r for r in rules if r["key"] == "storage.space.low")
    assert (disk["threshold"], disk["enabled"]) == (90, True)
    change = [{"key": "storage.space.low", "threshold": 80, "cooldown_minutes": 10}]
    assert client_for(member_user).put("/api/notifications/rules/", change, format="json").status_code == 403
    assert not Rule.objects.filter(threshold=80).exists()
    answer = client_for(admin_user).put("/api/notifications/rules/", change, format="json")
    assert answer.status_code == 200
    assert Rule.objects.get(key="storage.space.low").threshold == 80


def test_bad_rule_changes_are_refused(admin_user):
    client = client_for(admin_user)
    for bad in ([{"key": "nope"}], [{"key": "storage.space.low", "threshold": -1}], {"key": "x"}):
        assert client.put("/api/notifications/rules/", bad, format="json").status_code == 400
    assert not Rule.objects.exclude(threshold=None).exclude(threshold=90).exists()


def test_channels_are_per_person(admin_user, member_user):
    member_user.email = "m@example.test"
    member_user.save()
    mine = client_for(member_user).post(
        "/api/notifications/channels/", {"kind": "email", "address": "m@example.test"}, format="json"
    )
    assert mine.status_code == 201 and "secret" not in mine.json()
    other = client_for(admin_user)
    assert [c["kind"] for c in other.get("/api/notifications/channels/").json()] == ["inapp"]
    pk = mine.json()["id"]
    assert other.patch(f"/api/notifications/channels/{pk}/", {"enabled": False}, format="json").status_code == 404
    assert other.delete(f"/api/notifications/channels/{pk}/").status_code == 404
    assert other.post(f"/api/notifications/channels/{pk}/test/").status_code == 404
    assert Channel.objects.get(pk=pk).enabled


def test_a_channels_rules_are_checked(member_user):
    member_user.email = "m@x.test"
    member_user.save()
    client = client_for(member_user)
    bad = client.post(
        "/api/notifications/channels/", {"kind": "email", "address": "m@x.test", "rules": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and "nope" in bad.json()["detail"]
    assert not Channel.objects.filter(kind="email").exists()


def test_a_member_cannot_add_an_apprise_url(member_user):
    answer = client_for(member_user).post(
        "/api/notifications/channels/", {"kind": "apprise", "url": "json://10.0.0.1/x"}, format="json"
    )
    assert answer.status_code == 403 and not Channel.objects.filter(kind="apprise").exists()


def test_an_apprise_url_is_never_answered_back(admin_user):
    client = client_for(admin_user)
    client.post(
        "/api/notifications/channels/", {"kind": "apprise", "url": "json://127.0.0.1/secret-token"}, format="json"
    )
    assert "secret-token" not in client.get("/api/notifications/channels/").content.decode()


def test_smtp_is_for_admins_and_keeps_its_password(admin_user, member_user):
    assert client_for(member_user).get("/api/notifications/smtp/").status_code == 403
    put = {"host": "mail.example.test", "port": 25, "security": "none", "password": "pw-1"}
    assert client_for(member_user).put("/api/notifications/smtp/", put, format="json").status_code == 403
    assert not SmtpSettings.objects.filter(host="mail.example.test").exists()
    answer = client_for(admin_user).put("/api/notifications/smtp/", put, format="json").json()
    assert answer["has_password"] and "password" not in answer
    client_for(admin_user).put("/api/notifications/smtp/", {"host": "smtp.example.test"}, format="json")
    assert SmtpSettings.load().password == "pw-1"  # left out: kept
    assert AuditEvent.objects.filter(action="notifications.smtp").count() == 2


def test_unsafe_methods_need_the_csrf_token(admin_user, two_notes):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    note = two_notes[0]
    assert client.post(f"/api/notifications/{note.pk}/read/").status_code == 403
    assert (
        client.put("/api/notifications/rules/", [{"key": "apps.stopped", "enabled": False}], format="json").status_code
        == 403
    )
    note.refresh_from_db()
    assert note.read_at is None and not Rule.objects.filter(enabled=False).exists()


def test_anonymous_gets_nothing(two_notes):
    assert APIClient().get("/api/notifications/").status_code in (401, 403)


def test_push_key_is_the_installs(member_user):
    key = client_for(member_user).get("/api/notifications/push-key/").json()["public_key"]
    assert key == client_for(UserFactory()).get("/api/notifications/push-key/").json()["public_key"]
