"""How full a mounted filesystem is: the one reading the Storage page and the home page's disk widgets share."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    total: int
    used: int
    free: int  # what an unprivileged writer may still use (reserved blocks excluded, like df and lsblk FSAVAIL)
    percent: float


def filesystem_usage(path: str) -> Usage | None:
    """Size, used and free bytes of the filesystem mounted at `path` (as df counts them), None when unreadable."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    total = st.f_blocks * st.f_frsize
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    free = st.f_bavail * st.f_frsize
    # df's percentage: of what a user can fill (used + free), so a full disk reads 100 % despite reserved blocks.
    percent = round(used / (used + free) * 100, 1) if used + free else 0.0
    return Usage(total, used, free, percent)
