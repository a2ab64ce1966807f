"""Our own folders for backups under the data directory: the stage a run backs up from, restore staging areas."""

import json
import shutil
from pathlib import Path

from django.conf import settings


def backups_dir() -> Path:
    path = Path(settings.DATA_DIR) / "backups"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def stage(name: str) -> Path:
    """A stable folder per item (`system`, `app-<name>`): the same path at every run, so restic finds the last
    snapshot of the same paths as its parent and reads only what changed."""
    path = backups_dir() / "stage" / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def manifest_write(folder: Path, data: dict) -> Path:
    path = folder / "manifest.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    path.chmod(0o600)
    return path


def restore_area() -> Path:
    """Where restores unpack before anything is moved into place (same filesystem as our data: a rename)."""
    path = backups_dir() / "restore"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def replace_tree(source: Path, target: Path) -> None:
    """Put `source` (restored, complete) where `target` is: the old one is set aside first and removed only once
    the new one is in place, so the target is at every moment either the old tree or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.before-restore")
    remove(aside)
    if target.exists() or target.is_symlink():
        target.rename(aside)
    try:
        _move(source, target)
    except OSError:
        if aside.exists() or aside.is_symlink():
            remove(target)
            aside.rename(target)
        raise
    remove(aside)


def remove(path: Path) -> None:
    """Remove a file, a link or a whole folder; nothing there is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _move(source: Path, target: Path) -> None:
    # A rename when both are on one filesystem; otherwise a copy to a sibling of the target, then a rename.
    try:
        source.rename(target)
    except OSError:
        partial = target.with_name(f".{target.name}.restoring")
        remove(partial)
        shutil.copytree(source, partial, symlinks=True) if source.is_dir() else shutil.copy2(source, partial)
        partial.rename(target)
