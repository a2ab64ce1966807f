"""Apps and disks: a disk or pool we mounted is a place an admin may give an app without extra consent; nothing
else under the media root is (only our mounts qualify), and members gain nothing."""

import pytest

from apps.services.policy import policy_findings
from runtime.compose import load_project
from tests.factories import UserFactory
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = pytest.mark.django_db(transaction=True)


def host_access(user, folder: str) -> list[str]:
    text = f"services:\n  web:\n    image: busybox\n    volumes: ['{folder}:/data']\n"
    project = load_project(text, variables={}, project_name="t")
    return [f.code for f in policy_findings(project=project, app="t", user=user)]


def test_only_a_disk_we_mounted_is_an_allowed_place_for_app_data(loop_disks, media_root):
    from storage.mounts import mount_create

    device = loop_disks.make()
    make_fs(device, "ext4", "Data")
    mount_create(fs_uuid=fs_uuid(device))
    admin, member = UserFactory(admin=True, username="boss"), UserFactory(username="member")
    assert host_access(admin, f"{media_root}/Data/AppData/t") == []
    assert host_access(None, f"{media_root}/Data/AppData/t") == []
    assert host_access(member, f"{media_root}/Data/AppData/t") != []  # a member's places are their file bases
    (media_root / "Stray").mkdir()  # a folder under the media root that is not a mount of ours
    assert host_access(admin, f"{media_root}/Stray") != []
    assert host_access(admin, str(media_root)) != []  # the media root itself holds every disk: not a disk


def _form(data, disks):
    from appstore.forms import InstallForm
    from appstore.install import InstallField, data_root

    own = f"{data_root()}/jelly"
    fields = [
        InstallField(
            key="vol__web__0", kind="volume", service="web", label="", initial=f"{own}/config", container="/c"
        ),
        InstallField(key="vol__web__1", kind="volume", service="web", label="", initial="/srv/media", container="/m"),
    ]
    base = {"name": "jelly", "vol__web__0": f"{own}/config", "vol__web__1": "/srv/media"}
    return InstallForm({**base, **data}, fields=fields, needs_consent=False, disks=disks), own


def test_the_install_form_offers_our_disks_for_the_apps_data_and_nothing_else():
    disks = [("Data", "/media/Data")]
    form, own = _form({"data_disk": "/media/Data"}, disks)
    assert form.is_valid(), form.errors
    assert form.values() == {"vol__web__0": "/media/Data/AppData/jelly/config", "vol__web__1": "/srv/media"}
    default, _own = _form({"data_disk": ""}, disks)
    assert default.is_valid() and default.values()["vol__web__0"] == f"{own}/config"
    forged, _own = _form({"data_disk": "/etc"}, disks)  # only the disks offered qualify
    assert not forged.is_valid() and "data_disk" in forged.errors
    assert "data_disk" not in _form({}, [])[0].fields  # no disk mounted: no choice shown
