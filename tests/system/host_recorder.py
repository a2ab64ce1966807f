"""The tests' SYSTEM_HOST_WRAPPER: records the argv of a host command, and runs only what cannot harm the machine.

Usage: host_recorder.py <log file> <command> [args...]. `hostname` runs for real inside a throwaway UTS namespace
(its argument parsing and `--` are checked by the real program); systemctl and timedatectl are only recorded.
"""

import json
import subprocess
import sys
from pathlib import Path

log, argv = Path(sys.argv[1]), sys.argv[2:]
log.parent.mkdir(parents=True, exist_ok=True)
with log.open("a") as handle:
    handle.write(json.dumps(argv) + "\n")
if argv and argv[0] == "hostname":
    sys.exit(subprocess.run(["unshare", "--uts", "--", *argv], check=False).returncode)
