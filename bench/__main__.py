"""Run the benchmark modules: every bench/<area>.py (or those named on the command line), each in its own
process so one module's Django set-up, data directory and memory never bleed into another's figures.

A module is a plain script with a `main()`; it prints its own figures (ratios against a baseline measured in
the same run). Add one by dropping bench/<area>.py in this folder.
"""

import subprocess
import sys
import time
from pathlib import Path

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
    failed = []
    for name in wanted:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)
        print(
            f"=== bench {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - started:.0f}s",
            flush=True,
        )
        if code != 0:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
