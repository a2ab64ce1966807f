"""User management by admins (behind step-up), password changes, sessions."""

import pytest
from django.test import Client

from accounts.models import AuditEvent, User, UserSession
from accounts.permissions import STEPUP_SESSION_KEY
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a brand new long passphrase"


def _stepped_up(client, user):
    client.force_login(user)
    session = client.session
    session[STEPUP_SESSION_KEY] = 9e12
    session.save()
    return client


def _new_user(**extra):
    return {
        "username": "kid",
        "email": "",
        "role": "member",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **extra,
    }


def test_an_admin_creates_a_member_after_step_up(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/settings/users/new/", _new_user())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/stepup/?next=")
    assert not User.objects.filter(username="kid").exists()
    wrong = client.post("/accounts/stepup/", {"password": "not it", "next": "/settings/users/"})
    assert wrong.status_code == 200
    assert (
        client.post("/accounts/stepup/", {"password": PASSWORD, "next": "/settings/users/"})["Location"]
        == "/settings/users/"
    )
    client.post("/settings/users/new/", _new_user())
    kid = User.objects.get(username="kid")
    assert kid.role == "member" and not kid.is_admin and kid.password.startswith("argon2")
    assert AuditEvent.objects.filter(action="user.created", target="kid", actor=admin_user).exists()


def test_a_weak_password_is_refused(client, admin_user):
    _stepped_up(client, admin_user)
    response = client.post("/settings/users/new/", _new_user(password1="12345678", password2="12345678"))
    assert response.status_code == 400
    assert not User.objects.filter(username="kid").exists()


@pytest.mark.parametrize(
    "path",
    ["/settings/users/new/", "/settings/users/{pk}/", "/settings/users/{pk}/password/", "/settings/users/{pk}/delete/"],
)
def test_a_member_changes_nobody(client, member_user, admin_user, path):
    _stepped_up(client, member_user)
    data = {**_new_user(), "role": "admin", "is_active": "on"}
    response = client.post(path.format(pk=admin_user.pk), data)
    assert response.status_code == 403
    assert User.objects.count() == 2
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD) and admin_user.is_active
    member_user.refresh_from_db()
    assert member_user.role == "member"


def test_role_changes_are_audited_and_disabling_ends_sessions(client, admin_user, member_user):
    victim = Client()
    victim.force_login(member_user)
    victim.get("/")
    _stepped_up(client, admin_user)
    client.post(f"/settings/users/{member_user.pk}/", {"email": "", "role": "admin", "is_active": "on"})
    assert User.objects.get(pk=member_user.pk).is_admin
    client.post(f"/settings/users/{member_user.pk}/", {"email": "", "role": "member"})
    member_user.refresh_from_db()
    assert not member_user.is_active and member_user.role == "member"
    assert victim.get("/")["Location"].startswith("/login/")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.role_changed", "user.disabled"} <= actions


def test_the_last_admin_cannot_be_demoted_or_deleted(client, admin_user):
    _stepped_up(client, admin_user)
    response = client.post(f"/settings/users/{admin_user.pk}/", {"email": "", "role": "member", "is_active": "on"})
    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_admin


def test_an_admin_reset_ends_the_users_sessions(client, admin_user, member_user):
    victim = Client()
    victim.force_login(member_user)
    _stepped_up(client, admin_user)
    client.post(f"/settings/users/{member_user.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    member_user.refresh_from_db()
    assert member_user.check_password(NEW_PASSWORD)
    assert victim.get("/")["Location"].startswith("/login/")


def test_an_admin_deletes_a_user(client, admin_user, member_user):
    _stepped_up(client, admin_user)
    client.post(f"/settings/users/{member_user.pk}/delete/")
    assert not User.objects.filter(pk=member_user.pk).exists()
    assert AuditEvent.objects.filter(action="user.deleted", target="member").exists()


def test_changing_ones_password_ends_the_other_sessions(member_user):
    laptop, phone = Client(), Client()
    for client in (laptop, phone):
        client.post("/login/", {"username": "member", "password": PASSWORD})
        client.get("/")
    assert UserSession.objects.filter(user=member_user).count() == 2
    laptop.post("/settings/", {"old_password": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert laptop.get("/").status_code == 200
    assert phone.get("/")["Location"].startswith("/login/")
    assert AuditEvent.objects.get(action="password.changed").details["sessions_ended"] == 1
    # The laptop's session got a new key; its row followed it (no phantom session left in the list).
    rows = UserSession.objects.filter(user=member_user).values_list("session_key", flat=True)
    assert list(rows) == [laptop.cookies["sessionid"].value]


def test_a_wrong_current_password_changes_nothing(client, member_user):
    client.force_login(member_user)
    client.post("/settings/", {"old_password": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    member_user.refresh_from_db()
    assert member_user.check_password(PASSWORD)


def test_sessions_are_listed_and_can_be_ended(member_user):
    laptop, phone = Client(), Client()
    laptop.post("/login/", {"username": "member", "password": PASSWORD}, HTTP_USER_AGENT="Laptop browser")
    phone.post("/login/", {"username": "member", "password": PASSWORD}, HTTP_USER_AGENT="Phone browser")
    page = laptop.get("/settings/sessions/").content.decode()
    assert "Laptop browser" in page and "Phone browser" in page
    phone_row = UserSession.objects.get(user_agent="Phone browser")
    assert phone_row.session_key not in page  # the key is a credential, never shown
    laptop.post(f"/settings/sessions/{phone_row.pk}/end/")
    assert phone.get("/")["Location"].startswith("/login/")
    assert laptop.get("/").status_code == 200


def test_nobody_ends_someone_elses_session(member_user):
    other = UserFactory(username="other")
    theirs = Client()
    theirs.force_login(other)
    theirs.get("/")
    row = UserSession.objects.get(user=other)
    mine = Client()
    mine.force_login(member_user)
    assert mine.post(f"/settings/sessions/{row.pk}/end/").status_code == 404
    assert theirs.get("/").status_code == 200


def test_an_admin_allows_a_member_to_install_apps_on_their_page(client, admin_user, member_user):
    _stepped_up(client, admin_user)
    page = client.get(f"/settings/users/{member_user.pk}/").content.decode()
    assert 'name="may_install_apps"' in page and "checked" not in page.split('name="may_install_apps"')[1][:40]
    client.post(
        f"/settings/users/{member_user.pk}/",
        {"email": "", "role": "member", "is_active": "on", "may_install_apps": "on"},
    )
    member_user.refresh_from_db()
    assert member_user.may_install_apps and member_user.can_install and not member_user.is_admin
    event = AuditEvent.objects.get(action="user.install_right", target="member")
    assert event.actor == admin_user and event.details == {"may_install_apps": True}
    assert "installs apps" in client.get("/settings/users/").content.decode()
    client.post(f"/settings/users/{member_user.pk}/", {"email": "", "role": "member", "is_active": "on"})
    member_user.refresh_from_db()
    assert not member_user.may_install_apps


def test_the_users_api_shows_and_changes_the_install_right(admin_user, member_user):
    client = _stepped_up(Client(), admin_user)
    assert client.get(f"/api/users/{member_user.pk}/").json()["may_install_apps"] is False
    response = client.patch(
        f"/api/users/{member_user.pk}/", {"may_install_apps": True}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["may_install_apps"] is True
    assert User.objects.get(pk=member_user.pk).may_install_apps
    created = client.post(
        "/api/users/",
        {"username": "kid", "password": NEW_PASSWORD, "may_install_apps": True},
        content_type="application/json",
    )
    assert created.status_code == 201 and User.objects.get(username="kid").may_install_apps
    assert AuditEvent.objects.filter(action="user.install_right", target="kid").exists()


def test_a_member_cannot_give_themselves_the_install_right(member_user):
    client = _stepped_up(Client(), member_user)
    assert (
        client.patch(
            f"/api/users/{member_user.pk}/", {"may_install_apps": True}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/settings/users/{member_user.pk}/",
            {"email": "", "role": "member", "is_active": "on", "may_install_apps": "on"},
        ).status_code
        == 403
    )
    assert not User.objects.get(pk=member_user.pk).may_install_apps
