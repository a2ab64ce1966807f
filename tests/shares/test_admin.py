"""Shares in the Django admin: created, changed and removed through the same services (checked, audited, applied)."""

import pytest

from accounts.models import AuditEvent
from shares.models import Share
from tests.factories import UserFactory

ADMIN = "/django-admin/shares/share"


@pytest.fixture
def signed_in(client, db):
    client.force_login(UserFactory(admin=True, username="boss"))
    return client


def _form(**fields) -> dict:
    base = {"name": "Media", "place": "Media", "visible": "on", "grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0"}
    return {**base, **fields}


def test_a_share_added_in_the_admin_goes_through_the_service(
    signed_in, root, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"{ADMIN}/add/", _form())

    assert response.status_code == 302, response.content.decode()[:2000]
    share = Share.objects.get()
    assert (share.name, share.state) == ("Media", "pending")
    assert AuditEvent.objects.filter(action="shares.create").exists() and queued == [()]


@pytest.mark.parametrize(("field", "value"), [("name", "x]\n[global"), ("place", "../outside"), ("name", "%H")])
def test_the_admin_refuses_what_the_page_refuses(signed_in, root, queued, field, value):
    response = signed_in.post(f"{ADMIN}/add/", _form(**{field: value}))

    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not Share.objects.exists() and not queued


def test_a_share_deleted_in_the_admin_is_removed_through_samba_first(signed_in, root, queued):
    share = Share.objects.create(name="Media", place="Media", state="applied")

    response = signed_in.post(f"{ADMIN}/{share.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    share.refresh_from_db()
    assert share.state == "removing"
    assert AuditEvent.objects.filter(action="shares.remove").exists()
