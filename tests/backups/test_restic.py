"""The restic host module against the real restic: a local repository in a temporary folder."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from backups.host import restic as R
from backups.models import Repository
from backups.targets import opened
from remotes.models import Remote
from tests.remotes.conftest import PASSWORD as REMOTE_PASSWORD
from tests.remotes.conftest import USER


@pytest.fixture
def repo(tmp_path):
    if shutil.which("restic") is None:
        pytest.skip("restic is not installed")
    repo = R.Repo(location=str(tmp_path / "repo"), password="correct horse", cache_dir=str(tmp_path / "cache"))
    R.init(repo)
    return repo


def _data(tmp_path, text="one"):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "a.txt").write_text(text)
    return data


def test_it_backs_up_with_progress_and_lists_the_snapshot(repo, tmp_path):
    data = _data(tmp_path)
    (data / "big.bin").write_bytes(os.urandom(3 * 1024**2))
    seen = []
    summary = R.backup(repo, [str(data)], tags=["casaos", "app-x"], on_progress=seen.append)
    assert summary.files_new == 2 and summary.total_bytes > 3 * 1024**2
    assert seen and all(isinstance(p.bytes_done, int) and p.speed >= 0 for p in seen)
    (snap,) = R.snapshots(repo, tags=["app-x"])
    assert snap.id.startswith(summary.snapshot_id) and snap.paths == (str(data),)
    names = {n.name for n in R.ls(repo, snap.id, str(data))}
    assert names == {"a.txt", "big.bin"}
    assert R.stats(repo)["total_size"] > 0


def test_it_never_puts_the_password_or_location_on_the_command_line(repo, tmp_path, monkeypatch):
    seen = []
    real = subprocess.run

    def spy(argv, **kwargs):
        seen.append((argv, kwargs["env"]))
        return real(argv, **kwargs)

    monkeypatch.setattr(R.subprocess, "run", spy)
    R.snapshots(repo)
    argv, env = seen[-1]
    assert "correct horse" not in " ".join(argv) and repo.location not in " ".join(argv)
    assert env["RESTIC_REPOSITORY"] == repo.location
    assert "RESTIC_PASSWORD" not in env
    assert not Path(env["RESTIC_PASSWORD_FILE"]).exists()  # removed when the command ended


@pytest.mark.django_db
def test_it_never_puts_a_remotes_secrets_on_the_command_line(webdav_server, settings, tmp_path, monkeypatch):
    """A repository on a remote of the Remotes page: its password reaches rclone only in a config file of 0600 that
    exists while restic runs (RCLONE_CONFIG names it), never in restic's argv (nor rclone's: `-o rclone.args`)."""
    if shutil.which("restic") is None:
        pytest.skip("restic is not installed")
    settings.REMOTES_CONFIG_DIR = tmp_path / "remotes-config"
    remote = Remote.objects.create(name="Cloud", kind="webdav", secrets=json.dumps({"pass": REMOTE_PASSWORD}),
                                   options={"url": f"http://127.0.0.1:{webdav_server.port}/", "user": USER})  # fmt: skip
    repo = Repository(kind="rclone", remote=remote, location="backups", password="correct horse")
    seen = []
    real = subprocess.run

    def spy(argv, **kwargs):
        if argv[0] != R.RESTIC:  # `rclone obscure`, reading the password from stdin
            return real(argv, **kwargs)
        config = Path(kwargs["env"]["RCLONE_CONFIG"])
        seen.append((" ".join(argv), kwargs["env"], config.stat().st_mode & 0o777, config.read_text()))
        return real(argv, **kwargs)

    monkeypatch.setattr(R.subprocess, "run", spy)
    with opened(repo) as target:
        R.init(target)
        assert R.snapshots(target) == []
    assert (webdav_server.folder / "backups" / "config").is_file()
    for argv, env, mode, config in seen:
        obscured = next(line.split(" = ", 1)[1] for line in config.splitlines() if line.startswith("pass = "))
        assert REMOTE_PASSWORD not in argv and obscured not in argv and "correct horse" not in argv
        assert not any(REMOTE_PASSWORD in value or obscured in value for value in env.values())
        assert mode == 0o600 and env["RESTIC_REPOSITORY"] == "rclone:remote:backups"
        assert not Path(env["RCLONE_CONFIG"]).exists()  # removed when the command ended
    assert not list(settings.REMOTES_CONFIG_DIR.iterdir())


def test_it_names_a_wrong_password(repo):
    wrong = R.Repo(location=repo.location, password="nope", cache_dir=repo.cache_dir)
    with pytest.raises(R.ResticError) as exc:
        R.snapshots(wrong)
    assert str(exc.value) == "wrong repository password"


def test_it_names_a_missing_repository(tmp_path):
    with pytest.raises(R.ResticError) as exc:
        R.snapshots(R.Repo(location=str(tmp_path / "none"), password="x"))
    assert str(exc.value) == "there is no repository at this location"
    assert R.is_initialised(R.Repo(location=str(tmp_path / "none"), password="x")) is False


def test_it_restores_into_staging_only(repo, tmp_path):
    data = _data(tmp_path, "first")
    snap = R.backup(repo, [str(data)]).snapshot_id
    (data / "a.txt").write_text("second")
    staging = R.restore(repo, snap, staging=tmp_path / "stage")
    assert (staging / str(data).lstrip("/") / "a.txt").read_text() == "first"
    assert (data / "a.txt").read_text() == "second"  # the original is the caller's to replace


def test_it_leaves_no_staging_behind_when_the_restore_fails(repo, tmp_path):
    with pytest.raises(R.ResticError):
        R.restore(repo, "deadbeef", staging=tmp_path / "stage")
    assert not (tmp_path / "stage").exists()


def test_it_refuses_a_snapshot_id_that_reads_as_an_option(repo, tmp_path):
    with pytest.raises(R.ResticError):
        R.ls(repo, "--help")


def test_it_forgets_what_the_rules_do_not_keep(repo, tmp_path):
    data = _data(tmp_path)
    ids = []
    for n in range(4):
        (data / "a.txt").write_text(str(n))
        ids.append(R.backup(repo, [str(data)], tags=["job-1"]).snapshot_id)
        time.sleep(0.01)
    removed = R.forget(repo, keep={"last": 2}, tags=["job-1"])
    assert len(removed) == 2
    assert [s.short_id for s in R.snapshots(repo)] == ids[2:]
    assert R.forget(repo, keep={}) == []  # no rule: nothing is forgotten
    assert "no errors were found" in R.check(repo)


@pytest.mark.parametrize(
    ("stderr", "words"),
    [  # restic 0.14's own texts, as each kind of target makes it say them
        ("Fatal: unable to open config file: stat /m/r/config: no such file or directory", R.NO_REPOSITORY),
        ("Fatal: unable to open config file: <config/> does not exist", R.NO_REPOSITORY),  # REST, rclone
        ("Fatal: unable to open config file: Stat: The specified key does not exist.", R.NO_REPOSITORY),  # S3
        ("Fatal: unable to open config file: Stat: The specified bucket does not exist", R.NO_BUCKET),
        (
            "Fatal: unable to open config file: Stat: Access Denied.",
            "the S3 server denies this key access to the bucket",
        ),
        (
            'Fatal: unable to open config file: Stat: Get "https://nohost.invalid/b/?location=": dial tcp: lookup '
            "nohost.invalid on 10.0.0.53:53: no such host",
            "the backup target's host name is not known",
        ),
        # Any other reason it could not read the config is said as restic says it: never "no repository" (which
        # would make the caller init a repository where one may well be).
        ("Fatal: unable to open config file: Stat: an odd failure", "unable to open config file: Stat: an odd failure"),
    ],
)
def test_it_says_why_the_config_cannot_be_read(stderr, words):
    assert R.reason_of(f"{stderr}\nIs there a repository at the following location?\ns3:http://h/b\n") == words
