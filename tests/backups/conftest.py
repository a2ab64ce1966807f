"""Backups tests run real restic on repositories in temporary folders (outside the data directory)."""

import shutil

import pytest

from tests.clients import logged_in


@pytest.fixture
def restic_present():
    if shutil.which("restic") is None:
        pytest.skip("restic is not installed")


@pytest.fixture
def admin_client(admin_user):
    return logged_in(admin_user)


@pytest.fixture
def repo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("backup-target") / "repo"


@pytest.fixture
def repository(db, restic_present, admin_user, repo_dir):
    from backups.services import repository_create

    return repository_create(user=admin_user, name="disk", kind="local", location=str(repo_dir))


@pytest.fixture
def photos(settings, admin_user):
    """A folder of the file manager with a file in it: Photos/a.txt."""
    from files.paths import files_root

    folder = files_root() / "Photos"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("v0")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# The engine fixtures of the apps tests (a unique app name cleaned up afterwards, Docker as the services' engine).
from tests.apps.conftest import _no_stale_tasks, app_name, docker_engine  # noqa: E402, F401

# Servers of the remotes tests (`rclone serve webdav|sftp` on loopback): remotes a repository is kept on.
from tests.remotes.conftest import sftp_server, webdav_server  # noqa: E402, F401
