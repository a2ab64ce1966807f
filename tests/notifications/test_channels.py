"""Each channel against a real receiver: SMTP (aiosmtpd), Apprise to a local web hook, Web Push to a local endpoint
(decrypted with the browser's keys); a failing channel is recorded, retried with backoff, and blocks no other."""

import base64
import json

import http_ece
import pytest

from notifications.channels import ChannelError, channel_create, delivery_send, smtp_test, smtp_update
from notifications.models import Channel, Delivery, SmtpSettings
from notifications.push import push_keys
from notifications.services import notify
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def _smtp(admin, port: int) -> None:
    values = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "casaos@example.test"}
    smtp_update(actor=admin, values=values)


def test_it_mails_through_a_real_smtp_server(
    admin_user, smtp_server, eager_deliveries, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFY_SITE_URL = "https://home.example"
    _smtp(admin_user, smtp_server.port)
    channel = channel_create(user=admin_user, kind="email", address="admin@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="apps.stopped", params={"app": "nextcloud"}, subject="nextcloud", link="/apps/1/")
    ((sender, to, content),) = smtp_server.messages
    assert (sender, to) == ("casaos@example.test", ["admin@example.test"])
    assert "Subject: CasaOS: An app stopped unexpectedly" in content and "nextcloud stopped unexpectedly." in content
    assert "https://home.example/apps/1/" in content
    channel.refresh_from_db()
    assert channel.last_ok_at and not channel.failing


def test_the_mail_speaks_its_readers_language(
    admin_user, smtp_server, eager_deliveries, django_capture_on_commit_callbacks
):
    admin_user.language = "de"
    admin_user.save()
    _smtp(admin_user, smtp_server.port)
    channel_create(user=admin_user, kind="email", address="admin@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="notifications.test")
    from django.utils import translation

    with translation.override("de"):
        from django.utils.translation import gettext

        expected = gettext("This is a test message from your home cloud.")
    assert expected in smtp_server.messages[0][2]


def test_the_smtp_test_button_reports_success_and_failure(admin_user, smtp_server):
    _smtp(admin_user, smtp_server.port)
    assert smtp_test(to="me@example.test") is None
    assert smtp_server.messages[0][1] == ["me@example.test"]
    _smtp(admin_user, free_port())  # nothing listens there
    assert "SMTP 127.0.0.1" in smtp_test(to="me@example.test")


def test_the_smtp_password_is_stored_encrypted(admin_user):
    from django.db import connection

    smtp_update(actor=admin_user, values={"host": "mail.example.test", "password": "s3cret-pass"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM notifications_smtpsettings")
        (stored,) = cursor.fetchone()
    assert "s3cret-pass" not in stored and SmtpSettings.load().password == "s3cret-pass"


def test_apprise_posts_the_web_hook(admin_user, http_receiver, eager_deliveries, django_capture_on_commit_callbacks):
    channel_create(user=admin_user, kind="apprise", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="storage.space.low", params={"name": "Backup disk", "percent": 93}, subject="mount:1")
    (request,) = http_receiver.requests
    body = json.loads(request["body"])
    assert request["path"] == "/hook"
    assert body["title"] == "A disk is almost full" and body["message"] == "Backup disk is 93 % full."
    assert body["type"] == "warning"


def test_push_reaches_the_endpoint_encrypted_for_the_browser(
    admin_user, http_receiver, browser_keys, settings, eager_deliveries, django_capture_on_commit_callbacks
):
    settings.NOTIFY_PUSH_HOSTS, settings.NOTIFY_PUSH_HTTP = ["127.0.0.1"], True
    endpoint = f"http://127.0.0.1:{http_receiver.port}/push/abc"
    channel_create(user=admin_user, kind="webpush", subscription={"endpoint": endpoint, "keys": browser_keys["keys"]})
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="apps.restart_loop", params={"app": "db", "detail": "exit 1"}, subject="db", link="/apps/7/")
    (request,) = http_receiver.requests
    assert request["path"] == "/push/abc" and request["headers"]["content-encoding"] == "aes128gcm"
    plain = http_ece.decrypt(
        request["body"], private_key=browser_keys["private"], auth_secret=browser_keys["auth"], version="aes128gcm"
    )
    payload = json.loads(plain)
    assert payload["title"] == "An app keeps restarting" and payload["link"] == "/apps/7/"
    assert payload["body"] == "db kept restarting and was halted: exit 1"
    # signed with this install's VAPID key, for this push service
    vapid = request["headers"]["authorization"]
    token, key = vapid.removeprefix("vapid ").split(",")
    assert key.strip().removeprefix("k=") == push_keys().public_key
    claims = json.loads(base64.urlsafe_b64decode(token.strip().removeprefix("t=").split(".")[1] + "=="))
    assert claims["aud"] == f"http://127.0.0.1:{http_receiver.port}"


def test_vapid_keys_are_made_once_per_install(db):
    first = push_keys()
    assert push_keys().public_key == first.public_key and len(base64.urlsafe_b64decode(first.public_key + "==")) == 65


def test_a_push_endpoint_off_the_allow_list_is_refused(member_user, browser_keys):
    from notifications.channels import ChannelError

    for endpoint in ("https://192.168.1.1/admin", "http://fcm.googleapis.com/x", "file:///etc/passwd"):
        with pytest.raises(ChannelError):
            channel_create(
                user=member_user, kind="webpush", subscription={"endpoint": endpoint, "keys": browser_keys["keys"]}
            )
    assert not Channel.objects.filter(kind="webpush").exists()


def test_a_gone_subscription_fails_at_once(
    admin_user, http_receiver, browser_keys, settings, eager_deliveries, django_capture_on_commit_callbacks
):
    settings.NOTIFY_PUSH_HOSTS, settings.NOTIFY_PUSH_HTTP = ["127.0.0.1"], True
    http_receiver.status = 410
    endpoint = f"http://127.0.0.1:{http_receiver.port}/push/gone"
    channel_create(user=admin_user, kind="webpush", subscription={"endpoint": endpoint, "keys": browser_keys["keys"]})
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="notifications.test")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1) and "410" in delivery.error


def test_a_failing_channel_is_shown_retried_and_blocks_no_other(
    admin_user, http_receiver, eager_deliveries, django_capture_on_commit_callbacks, settings
):
    _smtp(admin_user, free_port())  # the SMTP server is down
    email = channel_create(user=admin_user, kind="email", address="admin@example.test")
    channel_create(user=admin_user, kind="apprise", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="apps.stopped", params={"app": "web"}, subject="web")
    assert len(http_receiver.requests) == 1  # the hook got it, whatever SMTP did
    failed = Delivery.objects.get(channel=email)
    assert (failed.status, failed.attempts) == ("failed", settings.NOTIFY_RETRIES)
    email.refresh_from_db()
    assert email.failing and "SMTP 127.0.0.1" in email.last_error


def test_the_backoff_doubles_and_a_healed_channel_delivers(admin_user, smtp_server, settings):
    settings.NOTIFY_RETRIES, settings.NOTIFY_RETRY_SECONDS = 5, 30
    dead = free_port()
    _smtp(admin_user, dead)
    channel = channel_create(user=admin_user, kind="email", address="admin@example.test")
    delivery = Delivery.objects.create(channel=channel, kind="notifications.test", message="hello")
    assert [delivery_send(delivery_id=delivery.pk) for _ in range(2)] == [30, 60]
    _smtp(admin_user, smtp_server.port)  # the server is back
    assert delivery_send(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert delivery.status == "sent" and len(smtp_server.messages) == 1 and not channel.failing


def test_only_admins_add_apprise_urls(member_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        channel_create(user=member_user, kind="apprise", url="json://127.0.0.1:9/x")
    assert not Channel.objects.exists()


def test_a_member_mails_only_their_own_address(member_user):
    """The admin's SMTP server is no open relay: a member cannot point an email channel at a stranger."""
    from django.core.exceptions import PermissionDenied

    member_user.email = "member@example.test"
    member_user.save()
    with pytest.raises(PermissionDenied):
        channel_create(user=member_user, kind="email", address="victim@example.test")
    with pytest.raises(ChannelError):
        channel_create(user=member_user, kind="email", address="not an address")
    assert not Channel.objects.exists()
    assert (
        channel_create(user=member_user, kind="email", address="Member@Example.test ").address == "Member@Example.test"
    )
