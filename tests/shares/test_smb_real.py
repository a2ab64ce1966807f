"""Shares against a real smbd (tests/shares/conftest.py) with smbclient as the client: who may read, write, log in,
where files land and with which owner, what a removal and a refused configuration do."""

import pwd
import secrets

import pytest

from files.services.ops import file_create, text_read, text_save
from shares.host import samba as host_samba
from shares.models import Share
from shares.services import share_change, share_create, share_remove
from shares.smbaccounts import smb_account_enable, smb_password_set
from tests.factories import UserFactory

SMB_PASSWORD = "Smb-pass-0f-the-test"


def _person(**traits):
    """A user of ours with an SMB password: (user, SMB user name)."""
    user = UserFactory(username=f"smb{secrets.token_hex(3)}", **traits)
    account = smb_password_set(user=user, password=SMB_PASSWORD)
    return user, account.unix_name


@pytest.fixture
def admin(db):
    return UserFactory(admin=True, username=f"adm{secrets.token_hex(3)}")


def settings_root():
    from django.conf import settings

    folder = settings.FILES_ROOT / "Media"
    folder.mkdir()
    return folder


def _share(admin, applied, *, grants, name="Media", **flags) -> Share:
    with applied():
        share = share_create(user=admin, name=name, place="Media", grants=grants, **flags)
    share.refresh_from_db()
    return share


def _owner(path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


def test_it_lets_a_granted_writer_write_and_the_file_belongs_to_the_service_user(samba, applied, admin, tmp_path):
    media = settings_root()
    writer, name = _person()
    share = _share(admin, applied, grants={writer.pk: "write"})
    assert share.state == Share.State.APPLIED, share.error
    local = tmp_path / "hello.txt"
    local.write_text("over smb")

    done = samba.client("Media", name, SMB_PASSWORD, f"put {local} hello.txt")

    assert done.returncode == 0, done.stdout + done.stderr
    assert (media / "hello.txt").read_text() == "over smb"
    assert _owner(media / "hello.txt") == "casaos-share-test"


def test_it_refuses_a_write_to_a_reader(samba, applied, admin, tmp_path):
    media = settings_root()
    (media / "film.txt").write_text("a film")
    reader, name = _person()
    _share(admin, applied, grants={reader.pk: "read"})
    local = tmp_path / "x.txt"
    local.write_text("nope")

    read = samba.client("Media", name, SMB_PASSWORD, f"get film.txt {tmp_path / 'got.txt'}")
    write = samba.client("Media", name, SMB_PASSWORD, f"put {local} x.txt")

    assert read.returncode == 0 and (tmp_path / "got.txt").read_text() == "a film"
    assert "NT_STATUS_ACCESS_DENIED" in write.stdout + write.stderr
    assert not (media / "x.txt").exists()


def test_it_refuses_an_ungranted_user_a_guest_and_a_disabled_user(samba, applied, admin):
    settings_root()
    granted, granted_name = _person()
    _stranger, stranger_name = _person()
    _share(admin, applied, grants={granted.pk: "write"})

    stranger = samba.client("Media", stranger_name, SMB_PASSWORD)
    guest = samba.client("Media", None)
    wrong = samba.client("Media", granted_name, "not the password")
    granted.is_active = False
    granted.save()
    disabled = samba.client("Media", granted_name, SMB_PASSWORD)

    assert "NT_STATUS_ACCESS_DENIED" in stranger.stdout + stranger.stderr
    assert guest.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in guest.stdout + guest.stderr
    assert "NT_STATUS_LOGON_FAILURE" in wrong.stdout + wrong.stderr
    assert disabled.returncode != 0, disabled.stdout


def test_a_guest_share_lets_everyone_read_and_only_writers_write(samba, applied, admin, tmp_path):
    media = settings_root()
    (media / "menu.txt").write_text("soup")
    writer, writer_name = _person()
    _share(admin, applied, grants={writer.pk: "write"}, guest=True)
    local = tmp_path / "note.txt"
    local.write_text("note")

    guest_read = samba.client("Media", None, command=f"get menu.txt {tmp_path / 'menu.txt'}")
    guest_write = samba.client("Media", None, command=f"put {local} guest.txt")
    writer_write = samba.client("Media", writer_name, SMB_PASSWORD, f"put {local} note.txt")

    assert guest_read.returncode == 0, guest_read.stdout + guest_read.stderr
    assert "NT_STATUS_ACCESS_DENIED" in guest_write.stdout + guest_write.stderr
    assert writer_write.returncode == 0 and (media / "note.txt").exists()


def test_a_share_removed_in_the_ui_is_gone_from_the_listing(samba, applied, admin):
    settings_root()
    user, name = _person()
    share = _share(admin, applied, grants={user.pk: "read"})
    assert "Media" in samba.listing(name, SMB_PASSWORD)

    with applied():
        share_remove(user=admin, share=share)

    assert not Share.objects.filter(pk=share.pk).exists()
    assert "Media" not in samba.listing(name, SMB_PASSWORD)
    assert "NT_STATUS_BAD_NETWORK_NAME" in samba.client("Media", name, SMB_PASSWORD).stdout


def test_a_hidden_share_is_left_out_of_the_listing_but_opens(samba, applied, admin):
    settings_root()
    user, name = _person()
    _share(admin, applied, grants={user.pk: "read"}, visible=False)

    assert "Media" not in samba.listing(name, SMB_PASSWORD)
    assert samba.client("Media", name, SMB_PASSWORD).returncode == 0


def test_a_configuration_samba_refuses_leaves_the_old_file_live_and_says_why(samba, applied, admin):
    settings_root()
    user, name = _person()
    good = _share(admin, applied, grants={user.pk: "read"})
    live = samba.include.read_text()
    original = samba.conf.read_text()
    # The host's smb.conf broken by hand: testparm refuses the whole configuration.
    samba.conf.write_text(original.replace("[global]\n", "[global]\n   read only = maybe\n", 1))
    try:
        with applied():
            share_change(user=admin, share=good, name="Films")
    finally:
        samba.conf.write_text(original)

    good.refresh_from_db()
    assert good.state == Share.State.FAILED
    assert "not boolean" in good.error
    assert samba.include.read_text() == live
    assert "Media" in samba.listing(name, SMB_PASSWORD)


def test_files_of_the_file_manager_and_of_smb_are_usable_from_both_sides(samba, applied, admin, tmp_path):
    media = settings_root()
    writer, name = _person()
    _share(admin, applied, grants={writer.pk: "write"})
    file_create(user=admin, path="Media", name="from-web.txt")
    local = tmp_path / "new.txt"
    local.write_text("written over smb")

    over = samba.client("Media", name, SMB_PASSWORD, f"put {local} from-web.txt")
    put = samba.client("Media", name, SMB_PASSWORD, f"put {local} from-smb.txt")
    _text, etag = text_read(user=admin, path="Media/from-smb.txt")
    text_save(user=admin, path="Media/from-smb.txt", content="edited on the web", etag=etag)

    assert over.returncode == 0, over.stdout + over.stderr
    assert (media / "from-web.txt").read_text() == "written over smb"
    assert put.returncode == 0
    assert _owner(media / "from-smb.txt") == "casaos-share-test"
    assert (media / "from-smb.txt").stat().st_mode & 0o660 == 0o660
    again = samba.client("Media", name, SMB_PASSWORD, f"put {local} from-smb.txt")
    assert again.returncode == 0, again.stdout


def test_the_recycle_bin_keeps_what_was_deleted_over_smb(samba, applied, admin):
    media = settings_root()
    (media / "old.txt").write_text("keep me")
    writer, name = _person()
    _share(admin, applied, grants={writer.pk: "write"}, recycle=True)

    done = samba.client("Media", name, SMB_PASSWORD, "del old.txt")

    assert done.returncode == 0, done.stdout + done.stderr
    assert not (media / "old.txt").exists()
    assert (media / ".recycle" / name / "old.txt").read_text() == "keep me"


def test_an_apply_announces_the_shares_over_avahi(samba, applied, admin, settings, tmp_path):
    settings_root()
    settings.SHARES_AVAHI_SERVICE = tmp_path / "casaos-smb.service"
    user, _name = _person()
    share = _share(admin, applied, grants={user.pk: "read"})

    assert f"<port>{samba.port}</port>" in settings.SHARES_AVAHI_SERVICE.read_text()
    with applied():
        share_remove(user=admin, share=share)
    assert not settings.SHARES_AVAHI_SERVICE.exists()


def test_it_reloads_a_running_smbd(samba):
    assert host_samba.reload(conf=samba.conf) == "smbcontrol"
    assert host_samba.smbd_pid(conf=samba.conf) == samba.process.pid


def test_a_disabled_account_can_be_enabled_again(samba, applied, admin):
    settings_root()
    user, name = _person()
    _share(admin, applied, grants={user.pk: "read"})
    smb_account_enable(user=user, enabled=False)
    assert samba.client("Media", name, SMB_PASSWORD).returncode != 0
    smb_account_enable(user=user, enabled=True)
    assert samba.client("Media", name, SMB_PASSWORD).returncode == 0
