"""The Django admin's user pages keep at least one active admin, like the Settings pages and the API."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Authenticator, BackupCode, BackupCodeDevice, User, UserSession
from tests.factories import PASSWORD, UserFactory

ADMIN = "/django-admin/accounts/user/"


@pytest.fixture
def root(db, client):
    user = UserFactory(admin=True, username="root")
    client.force_login(user)
    return user


def _change(client, user, **overrides):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "role": user.role,
        "is_active": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return client.post(f"{ADMIN}{user.pk}/change/", {k: v for k, v in data.items() if v is not None})


def _unchanged(user) -> bool:
    stored = User.objects.get(pk=user.pk)
    return (
        stored.role == User.Role.ADMIN
        and stored.is_active
        and not AuditEvent.objects.filter(action__in=("user.role_changed", "user.disabled", "user.deleted")).exists()
    )


def test_it_refuses_to_demote_the_last_admin(client, root):
    response = _change(client, root, role=User.Role.MEMBER)
    assert response.status_code == 200 and "at least one active admin" in response.content.decode()
    assert _unchanged(root)


def test_it_refuses_to_disable_the_last_admin(client, root):
    response = _change(client, root, is_active=None)
    assert response.status_code == 200 and "at least one active admin" in response.content.decode()
    assert _unchanged(root)


def test_it_demotes_an_admin_while_another_remains(client, root):
    other = UserFactory(admin=True, username="second")
    response = _change(client, other, role=User.Role.MEMBER)
    assert response.status_code == 302
    assert User.objects.get(pk=other.pk).role == User.Role.MEMBER
    assert AuditEvent.objects.filter(action="user.role_changed", target="second").exists()


def test_it_refuses_to_delete_the_last_admin(client, root):
    page = client.get(f"{ADMIN}{root.pk}/delete/")
    assert "at least one active admin" in page.content.decode()
    response = client.post(f"{ADMIN}{root.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200 and "at least one active admin" in response.content.decode()
    assert _unchanged(root)


def test_a_bulk_delete_that_would_remove_every_admin_deletes_nobody(client, root):
    other = UserFactory(admin=True, username="second")
    member = UserFactory(username="kid")
    selected = [root.pk, other.pk, member.pk]
    response = client.post(ADMIN, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})
    assert response.status_code == 200 and "at least one active admin" in response.content.decode()
    assert User.objects.filter(pk__in=selected).count() == 3
    assert _unchanged(root) and _unchanged(other)


def test_a_bulk_delete_goes_through_the_service(client, root):
    member = UserFactory(username="kid")
    assert client.__class__().post("/login/", {"username": "kid", "password": PASSWORD}).status_code == 302
    assert UserSession.objects.filter(user=member).exists()
    response = client.post(ADMIN, {"action": "delete_selected", "_selected_action": [member.pk], "post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="user.deleted", target="kid", actor=root).exists()


def test_the_install_right_is_shown_edited_and_audited_in_the_django_admin(client, root):
    kid = UserFactory(username="kid")
    assert 'name="may_install_apps"' in client.get(f"{ADMIN}{kid.pk}/change/").content.decode()
    assert _change(client, kid, may_install_apps="on").status_code == 302
    assert User.objects.get(pk=kid.pk).may_install_apps
    assert AuditEvent.objects.get(action="user.install_right", target="kid").details == {"may_install_apps": True}
    assert "may_install_apps" in client.get(f"{ADMIN}?may_install_apps__exact=1").content.decode()


def test_revoking_tokens_in_the_django_admin_asks_first(client, root):
    from accounts.models import APIToken
    from accounts.services.tokens import api_token_create

    row, _raw = api_token_create(user=root, name="grafana", scope=APIToken.Scope.READ)
    action = {"action": "revoke_tokens", "_selected_action": [row.pk]}
    page = client.post("/django-admin/accounts/apitoken/", action)
    assert (
        page.status_code == 200 and "grafana" in page.content.decode() and "Yes, revoke them" in page.content.decode()
    )
    row.refresh_from_db()
    assert row.revoked_at is None
    assert client.post("/django-admin/accounts/apitoken/", {**action, "confirmed": "yes"}).status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and AuditEvent.objects.filter(action="token.revoked").exists()


def test_no_admin_page_shows_or_sets_an_mfa_secret(client, root):
    # django-otp's device pages showed a TOTP key as text and QR code, and stored keys and codes in clear: gone.
    for model in (TOTPDevice, StaticDevice, Authenticator, BackupCodeDevice, BackupCode):
        assert not admin.site.is_registered(model)
    for name in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1])
    assert client.get("/django-admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/django-admin/accounts/authenticator/").status_code == 404
