"""Helpers for the tests that run a real smbd of their own (tests/shares, tests/remotes)."""

import contextlib
import os
import signal
from pathlib import Path


def samba_helpers_stop(conf: Path) -> list[int]:
    """Stop what smbd started for this configuration and left behind: Samba 4.16+ starts samba-dcerpcd and its
    rpcd_* workers on demand, in a session of their own that outlives smbd (and holds whatever descriptors it
    inherited, such as the suite's lock)."""
    marker = f"--configfile={conf}".encode()
    stopped = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGTERM)
                stopped.append(int(proc.name))
    return stopped
