"""The host side at the argv level: the kernel's cifs and nfs clients (this kernel has neither, so they are never run
here), rclone's config file and command lines, and which client a remote is given."""

import pytest

from remotes.backends import RemoteRefused, clean, config_section
from remotes.host import kernel, rclone
from remotes.models import Remote
from remotes.services import kernel_argv, uses_kernel
from storage.host.errors import HostError

pytestmark = pytest.mark.django_db


def test_it_mounts_smb_through_the_kernel_with_a_credentials_file():
    argv = kernel.cifs_argv(host="nas.lan", share="media/films", target="/media/.remotes/NAS",
                            credentials="/var/casa/remotes/3.cred", port=445)  # fmt: skip
    assert argv == [
        "mount", "-t", "cifs", "-o",
        "credentials=/var/casa/remotes/3.cred,port=445,nosuid,nodev,noexec,iocharset=utf8",
        "--", "//nas.lan/media/films", "/media/.remotes/NAS",
    ]  # fmt: skip
    assert kernel.source_of(argv) == "//nas.lan/media/films"


def test_it_mounts_nfs_through_the_kernel_soft():
    argv = kernel.nfs_argv(host="10.0.0.2", export="/srv/share", target="/media/.remotes/Exp")
    assert argv == ["mount", "-t", "nfs", "-o", "nosuid,nodev,noexec,soft,timeo=100,retrans=2", "--",
                    "10.0.0.2:/srv/share", "/media/.remotes/Exp"]  # fmt: skip


@pytest.mark.parametrize("host", ["-oexec", "a,b", "nas lan", "x;y"])
def test_a_host_that_could_be_read_as_an_option_is_refused(host):
    with pytest.raises(HostError):
        kernel.cifs_argv(host=host, share="s", target="/t", credentials="/c")


def test_the_credentials_file_is_0600_and_one_line_per_value(tmp_path):
    path = tmp_path / "c" / "1.cred"
    kernel.write_credentials(path, kernel.cifs_credentials(user="ann", password="pw", domain="HOME"))
    assert path.read_text() == "username=ann\npassword=pw\ndomain=HOME\n"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    with pytest.raises(HostError):
        kernel.cifs_credentials(user="ann", password="pw\nusername=root")


def test_smb_goes_through_the_kernel_only_where_it_has_cifs(monkeypatch, settings, tmp_path):
    settings.REMOTES_CONFIG_DIR = tmp_path
    remote = Remote(pk=3, name="NAS", kind="smb", options={"host": "nas.lan", "share": "media", "user": "ann"})
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: {"ext4"})
    assert not uses_kernel(remote)  # this machine: rclone's SMB backend
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: {"ext4", "cifs"})
    monkeypatch.setattr(kernel, "mount_helpers", lambda: set())
    assert not uses_kernel(remote)  # the kernel's client without mount.cifs: rclone still
    monkeypatch.setattr(kernel, "mount_helpers", lambda: {"cifs"})
    assert uses_kernel(remote)
    argv = kernel_argv(remote)
    assert argv[:4] == ["mount", "-t", "cifs", "-o"] and f"credentials={tmp_path}/3.cred" in argv[4]


def test_nfs_is_refused_clearly_without_a_kernel_client(monkeypatch):
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: {"ext4"})
    remote = Remote(pk=4, name="Exp", kind="nfs", options={"host": "10.0.0.2", "export": "srv"})
    with pytest.raises(RemoteRefused, match="no NFS client"):
        kernel_argv(remote)
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: {"ext4", "nfs"})
    monkeypatch.setattr(kernel, "mount_helpers", lambda: set())
    with pytest.raises(RemoteRefused, match="nfs-common"):  # not installed unasked: it runs rpcbind
        kernel_argv(remote)


def test_the_rclone_config_has_one_section_of_ours(tmp_path):
    section = config_section("webdav", {"url": "https://dav.example/", "user": "ann", "path": "docs"},
                             {"pass": "pw"}, lambda secret: "OBSCURED")  # fmt: skip
    assert section == {"type": "webdav", "vendor": "other", "url": "https://dav.example/", "user": "ann",
                       "pass": "OBSCURED"}  # fmt: skip
    remote = rclone.RcloneRemote(config=section, config_path=tmp_path / "cfg" / "1.conf", path="docs")
    rclone.write_config(remote)
    assert remote.config_path.read_text().startswith("[remote]\ntype = webdav\n")
    assert remote.config_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("value", ["x\n[evil]\ntype = local", "x\rkey = 1", "a\x00b"])
def test_a_value_cannot_add_config_lines(value, tmp_path):
    with pytest.raises(RemoteRefused):
        clean("webdav", {"user": value}, ("user",))
    with pytest.raises(HostError):
        rclone.config_text({"user": value})


def test_obscure_reads_the_password_from_stdin():
    obscured = rclone.obscure("Pa ss-word")
    assert obscured and "Pa ss-word" not in obscured
    assert rclone.obscure("Pa ss-word") != "Pa ss-word"


def test_the_mount_command_line_holds_the_cache_and_no_secret(tmp_path):
    remote = rclone.RcloneRemote(config={"type": "webdav", "pass": "x"}, config_path=tmp_path / "1.conf", path="a")
    argv = rclone.mount_argv(remote, target="/m/Cloud", devname="casaos-remote-1", cache_dir="/data/cache/1",
                             log_file="/data/1.log")  # fmt: skip
    assert argv[:4] == ["rclone", "--config", str(tmp_path / "1.conf"), "mount"]
    assert (
        argv[argv.index("--vfs-cache-mode") + 1] == "writes" and argv[argv.index("--cache-dir") + 1] == "/data/cache/1"
    )
    assert "--daemon" in argv and argv[-3:] == ["--", "remote:a", "/m/Cloud"]


def test_s3_config_and_sync_argv():
    section = config_section("s3", {"endpoint": "https://s3.example", "bucket": "photos", "region": "eu"},
                             {"access_key_id": "AK", "secret_access_key": "SK"}, lambda s: "never")  # fmt: skip
    assert section == {"type": "s3", "provider": "Other", "endpoint": "https://s3.example", "region": "eu",
                       "access_key_id": "AK", "secret_access_key": "SK"}  # fmt: skip
    remote = rclone.RcloneRemote(
        config=section, config_path=__import__("pathlib").Path("/c/1.conf"), path="photos/2024"
    )
    pull = rclone.sync_argv(remote, local="/data/Photos", direction="pull", workdir="/w", first=False)
    assert pull[3:] == ["sync", "--use-json-log", "--stats", "1s", "-v", "--", "remote:photos/2024", "/data/Photos"]
    both = rclone.sync_argv(remote, local="/data/Photos", direction="both", workdir="/w", first=True)
    assert both[3] == "bisync" and "--resync" in both and both[-2:] == ["remote:photos/2024", "/data/Photos"]


def test_stats_lines_are_parsed():
    line = '{"level":"info","msg":"x","stats":{"bytes":10,"totalBytes":40,"transfers":1}}'
    assert rclone.stats_of(line) == {"bytes": 10, "totalBytes": 40, "transfers": 1}
    assert rclone.stats_of("not json") is None
    assert rclone.error_of('{"level":"error","msg":"boom","object":"a.txt"}') == "a.txt boom"


def test_the_kernel_sources_match_what_mountinfo_will_say(monkeypatch, settings, tmp_path):
    from remotes.services import source

    settings.REMOTES_CONFIG_DIR = tmp_path
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: {"cifs", "nfs"})
    monkeypatch.setattr(kernel, "mount_helpers", lambda: {"cifs", "nfs"})
    smb = Remote(pk=3, name="NAS", kind="smb", options={"host": "nas.lan", "share": "media", "path": "films"})
    nfs = Remote(pk=4, name="Exp", kind="nfs", options={"host": "10.0.0.2", "export": "srv/share"})
    assert source(smb) == kernel.source_of(kernel_argv(smb)) == "//nas.lan/media/films"
    assert source(nfs) == kernel.source_of(kernel_argv(nfs)) == "10.0.0.2:/srv/share"
    monkeypatch.setattr(kernel, "kernel_filesystems", lambda: set())
    assert source(nfs) == "10.0.0.2:/srv/share"  # a root's check never raises, client or not
