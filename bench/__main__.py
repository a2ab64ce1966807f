"""Run the benchmark modules: every bench/<area>.py (or those named on the command line), each in its own
process so one module's Django set-up, data directory and memory never bleed into another's figures.

A module is a plain script with a `main()`; it prints its own figures (ratios against a baseline measured in
the same run) and reports each through `bench._report.row`, which the runner gathers into one table printed at
the end with the machine's description. Add one by dropping bench/<area>.py in this folder.

BENCH_QUICK=1 (`make bench BENCH_QUICK=1`) runs every module but the hour-long growth one, with fewer rounds and
256 MiB files (QUICK below; a variable set in the environment wins): every other figure in a few minutes.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench import _report

HERE = Path(__file__).resolve().parent
LONG = {"growth"}  # an hour by definition: left out of the quick mode
QUICK = {
    "CASAOS_BENCH_FILE_MIB": "256",
    "CASAOS_BENCH_RUNS": "3",
    "CASAOS_BENCH_ROUNDS": "10",
    "BENCH_APPS_ROUNDS": "3",
    "BENCH_PAGES_ROUNDS": "10",
    "BENCH_INSTALL_ROUNDS": "3",
    "BENCH_QUEUE_ROUNDS": "3",
    "BENCH_CLIENTS": "200",
    "BENCH_CLIENTS_SECONDS": "15",
    "BENCH_FOOTPRINT_SETTLE": "10",
}


def modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))


def quick() -> bool:
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def main(argv: list[str]) -> int:
    available = modules()
    wanted = argv or [name for name in available if not (quick() and name in LONG)]
    if quick():
        for key, value in QUICK.items():
            os.environ.setdefault(key, value)
        print(
            f"quick mode (BENCH_QUICK): {', '.join(sorted(LONG))} left out; "
            + ", ".join(f"{k}={os.environ[k]}" for k in QUICK)
        )
    unknown = [name for name in wanted if name not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed, rows = [], []
    for name in wanted:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        code = _run(name, rows)
        print(
            f"=== bench {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - started:.0f}s",
            flush=True,
        )
        if code != 0:
            failed.append(name)
    mode = " Quick mode (BENCH_QUICK): fewer rounds, smaller files, no growth figure." if quick() else ""
    print(f"\n{_report.header()}{mode}\n\n{_report.table(rows)}")
    return 1 if failed else 0


def _run(name: str, rows: list[dict]) -> int:
    """Run one module, relaying its output and keeping the rows it reports."""
    proc = subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    for line in proc.stdout:
        parsed = _report.parse(line)
        if parsed is None:
            print(line, end="", flush=True)
        else:
            rows.append(parsed)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
