"""The pages: the list with read/unread/dismiss, the bell's fragment, Settings → Notifications and its forms."""

import pytest
from django.test import Client

from notifications.models import Channel, Notification, Rule, SmtpSettings
from notifications.rules import EDITABLE
from notifications.services import notify

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def note(admin_user):
    notify(kind="apps.stopped", params={"app": "web"}, subject="web", link="/apps/1/")
    return Notification.objects.get()


def test_the_layout_has_the_bell_with_its_count(admin_user, note):
    page = logged_in(admin_user).get("/notifications/").content.decode()
    assert 'ws-connect="/ws/notifications/"' in page and 'data-unread="1"' in page
    assert "web stopped unexpectedly." in page and 'rel="manifest"' in page


def test_the_list_reads_unreads_and_dismisses(admin_user, note):
    client = logged_in(admin_user)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at
    client.post(f"/notifications/{note.pk}/unread/")
    note.refresh_from_db()
    assert note.read_at is None
    client.post(f"/notifications/{note.pk}/dismiss/")
    assert "web stopped unexpectedly." not in client.get("/notifications/").content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(admin_user, note):
    answer = logged_in(admin_user).post(f"/notifications/{note.pk}/open/", HTTP_HX_REQUEST="true")
    assert answer.headers["HX-Redirect"] == "/apps/1/"
    note.refresh_from_db()
    assert note.read_at


def test_a_member_cannot_touch_an_admins_notification(member_user, note):
    assert logged_in(member_user).post(f"/notifications/{note.pk}/dismiss/").status_code == 404
    note.refresh_from_db()
    assert note.dismissed_at is None


def test_the_bell_refuses_unknown_actions_and_foreign_redirects(admin_user, note):
    client = logged_in(admin_user)
    assert client.post(f"/notifications/{note.pk}/delete/").status_code == 404
    answer = client.post(f"/notifications/{note.pk}/read/", {"next": "https://evil.example/"})
    assert answer.headers["Location"] == "/notifications/"


def test_page_forms_need_csrf(admin_user, note):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 403
    assert client.post("/settings/notifications/rules/", {}).status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_the_settings_page_for_a_member_has_no_global_settings(member_user):
    page = logged_in(member_user).get("/settings/notifications/").content.decode()
    assert "Where your alerts go" in page and 'id="rules"' not in page and 'id="smtp"' not in page
    assert 'action="/settings/notifications/add/apprise/"' not in page


def test_a_member_cannot_change_rules_or_smtp(member_user):
    client = logged_in(member_user)
    assert client.post("/settings/notifications/rules/", {"apps.stopped-cooldown": "1"}).status_code == 403
    assert (
        client.post("/settings/notifications/smtp/", {"host": "evil", "port": 25, "security": "none"}).status_code
        == 403
    )
    assert client.post("/settings/notifications/add/apprise/", {"url": "json://10.0.0.1/"}).status_code == 403
    assert not Rule.objects.exists() and not SmtpSettings.objects.filter(host="evil").exists()
    assert not Channel.objects.filter(kind="apprise").exists()


def test_an_admin_saves_rules_and_bad_numbers_change_nothing(admin_user):
    client = logged_in(admin_user)
    form = {f"{spec.key}-cooldown": "60" for spec in EDITABLE}  # every rule's row, as the page sends it
    form |= {f"{spec.key}-threshold": "5" for spec in EDITABLE if spec.threshold}
    form |= {"storage.space.low-enabled": "on", "storage.space.low-threshold": "85", "storage.space.low-cooldown": "30"}
    assert client.post("/settings/notifications/rules/", form).status_code == 302
    rule = Rule.objects.get(key="storage.space.low")
    assert (rule.enabled, rule.threshold, rule.cooldown_minutes) == (True, 85, 30)
    assert not Rule.objects.get(key="apps.stopped").enabled  # unticked: off
    form["storage.space.low-threshold"] = "lots"
    client.post("/settings/notifications/rules/", form)
    assert Rule.objects.get(key="storage.space.low").threshold == 85


def test_a_channel_is_added_routed_and_removed(member_user):
    member_user.email = "me@example.test"
    member_user.save()
    client = logged_in(member_user)
    assert client.post("/settings/notifications/add/email/", {"address": "me@example.test"}).status_code == 302
    channel = Channel.objects.get(kind="email")
    client.post(f"/settings/notifications/{channel.pk}/rules/", {f"c{channel.pk}-rules": ["apps.stopped"]})
    channel.refresh_from_db()
    assert channel.rules == ["apps.stopped"]
    client.post(f"/settings/notifications/{channel.pk}/delete/")
    assert not Channel.objects.filter(kind="email").exists()


def test_a_bad_address_is_a_form_error(member_user):
    answer = logged_in(member_user).post("/settings/notifications/add/email/", {"address": "not-an-address"})
    assert answer.status_code == 400 and "form-error" in answer.content.decode()


def test_a_failing_channel_shows_its_error(member_user):
    from django.utils import timezone

    Channel.objects.create(
        user=member_user, kind="email", address="me@example.test", last_error="SMTP down", last_error_at=timezone.now()
    )
    assert "SMTP down" in logged_in(member_user).get("/settings/notifications/").content.decode()


def test_the_manifest_and_the_service_worker(client):
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    worker = client.get("/sw.js")
    assert worker["Content-Type"].startswith("text/javascript") and worker["Service-Worker-Allowed"] == "/"
    assert b"showNotification" in worker.content


def test_a_member_cannot_mail_a_stranger_from_the_page(member_user):
    member_user.email = "me@example.test"
    member_user.save()
    answer = logged_in(member_user).post("/settings/notifications/add/email/", {"address": "victim@example.test"})
    assert answer.status_code == 403 and "their own address" in answer.content.decode()
    assert not Channel.objects.filter(kind="email").exists()
