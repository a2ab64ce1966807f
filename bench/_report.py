"""One table for `make bench`: each module reports its figures as rows, the runner prints them together.

A module calls `row(...)` for each figure it measured; the line it prints is picked up by `bench/__main__.py`
from the module's output, so modules stay plain scripts that can also run alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

MARK = "BENCH-ROW "
# The benchmarks' Redis database: apart from the test suite's (6-15), so a bench may run beside `make test`.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
COLUMNS = ("measure", "figure", "baseline", "ratio", "goal", "met")


def row(measure: str, figure: str, baseline: str = "", ratio: float | None = None, goal: str = "", met=None) -> None:
    """Print one figure in the form the runner collects (ratio: ours / baseline, as the goal reads it)."""
    fields = {"measure": measure, "figure": figure, "baseline": baseline, "goal": goal, "met": met}
    fields["ratio"] = "" if ratio is None else f"{ratio:.2f}x"
    print(MARK + json.dumps(fields), flush=True)


def parse(line: str) -> dict | None:
    """The row a module printed on this line, or None for its other output."""
    if not line.startswith(MARK):
        return None
    return json.loads(line[len(MARK) :])


def machine() -> str:
    """What the figures were measured on: CPU, cores, memory, OS, disk-backed data directory."""
    cpu = _cpu_model()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} CPU, {mem_gb:.0f} GB RAM, {_os_name()}, Python {platform.python_version()}"


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith(("model name", "Model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.system()


def _docker_version() -> str:
    out = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def table(rows: list[dict]) -> str:
    """The rows as one Markdown table, ready to paste into docs/performance.md."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        met = {True: "yes", False: "NO", None: ""}[r.get("met")]
        cells = [str(r.get(c, "")) for c in COLUMNS[:-1]] + [met]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def header() -> str:
    return f"Machine: {machine()}, Docker {_docker_version()}"
