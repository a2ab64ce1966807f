"""Storage in the Django admin: every model is there; the settings save through their service, the rest is read-only
(an edited disk or mount row would bypass the safety checks)."""

import pytest
from django.apps import apps
from django.contrib import admin

from accounts.models import AuditEvent
from storage.models import Disk, Mount, StorageSettings

ADMIN = "/django-admin/storage"


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin)
    return client


def test_every_storage_model_is_in_the_admin():
    assert [m.__name__ for m in apps.get_app_config("storage").get_models() if m not in admin.site._registry] == []


def test_the_settings_save_through_their_service_audited_and_validated(signed_in):
    StorageSettings.load()
    page = f"{ADMIN}/storagesettings/1/change/"
    assert signed_in.get(page).status_code == 200
    response = signed_in.post(page, {"automount": "on", "full_threshold": "80"})
    assert response.status_code == 302
    stored = StorageSettings.load()
    assert (stored.automount, stored.full_threshold) == (True, 80)
    event = AuditEvent.objects.get(action="storage.settings")
    assert event.details == {"automount": True, "full_threshold": 80}
    response = signed_in.post(page, {"full_threshold": "100"})
    assert response.status_code == 200 and StorageSettings.load().full_threshold == 80


def test_the_settings_row_is_neither_added_nor_deleted(signed_in):
    StorageSettings.load()
    assert signed_in.get(f"{ADMIN}/storagesettings/add/").status_code == 403
    assert signed_in.post(f"{ADMIN}/storagesettings/1/delete/", {"post": "yes"}).status_code == 403
    assert StorageSettings.objects.count() == 1


def test_disks_and_mounts_are_read_only(signed_in):
    disk = Disk.objects.create(stable_id="serial-X", id_kind="serial", name="sdb", path="/dev/sdb", is_system=True)
    mount = Mount.objects.create(name="Data", target="/media/Data", fs_uuid="u1", fstype="ext4")
    assert "serial-X" in signed_in.get(f"{ADMIN}/disk/").content.decode()
    assert signed_in.get(f"{ADMIN}/disk/{disk.pk}/change/").status_code == 200  # shown
    signed_in.post(f"{ADMIN}/disk/{disk.pk}/change/", {"stable_id": "serial-X", "is_system": ""})
    assert Disk.objects.get(pk=disk.pk).is_system
    assert signed_in.post(f"{ADMIN}/mount/{mount.pk}/delete/", {"post": "yes"}).status_code == 403
    assert signed_in.get(f"{ADMIN}/mount/add/").status_code == 403
    assert Mount.objects.filter(pk=mount.pk).exists()


def test_members_reach_none_of_it(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="kid"))
    assert client.get(f"{ADMIN}/storagesettings/").status_code in (302, 403)
