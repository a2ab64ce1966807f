"""Run the benchmark modules: every bench/<area>.py (or those named on the command line), each in its own
process so one module's Django set-up, data directory and memory never bleed into another's figures.

A module is a plain script with a `main()`; it prints its own figures (ratios against a baseline measured in
the same run) and reports each through `bench._report.row`, which the runner gathers into one table printed at
the end with the machine's description. Add one by dropping bench/<area>.py in this folder.
"""

import subprocess
import sys
import time
from pathlib import Path

from bench import _report

HERE = Path(__file__).resolve().parent


def modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    available = modules()
    wanted = argv or available
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
    print(f"\n{_report.header()}\n\n{_report.table(rows)}")
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
