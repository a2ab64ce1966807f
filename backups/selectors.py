"""Reads of the backups app."""

import os

from .host import restic as R
from .models import Snapshot
from .targets import opened


def snapshot_browse(*, snapshot: Snapshot, path: str = "") -> list[dict]:
    """The entries of one folder of a snapshot (its top folder by default), folders first."""
    top = snapshot.paths[0] if snapshot.paths else "/"
    folder = os.path.normpath("/" + (path or top).lstrip("/"))
    with opened(snapshot.repository) as target:
        nodes = R.ls(target, snapshot.restic_id, folder)
    nodes.sort(key=lambda n: (n.type != "dir", n.name.lower()))
    return [{"name": n.name, "path": n.path, "type": n.type, "size": n.size, "mtime": n.mtime} for n in nodes]
