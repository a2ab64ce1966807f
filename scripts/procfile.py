#!/usr/bin/env python3
"""The Procfile is the one list of our processes: this writes the supervisor configuration of `make run` and the
systemd units of a real host from it, so neither can forget a process.

    python3 scripts/procfile.py supervisord              # var/run/supervisord.conf for `make run`
    python3 scripts/procfile.py units [--dir /etc/systemd/system] [--root /opt/casaos] [--env-file /etc/casaos.env]

Plain Python (standard library only): it runs before the virtual environment exists.
"""

import argparse
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT_PREFIX = "casaos-"
# Processes that run only when their setting is on in the environment: Caddy (docs/proxy.md) is off on a try-out.
OPTIONAL = {"proxy": "CASAOS_PROXY"}


def processes(procfile: Path) -> dict[str, list[str]]:
    """Name -> argv, in the Procfile's order; paths relative to the checkout stay relative."""
    found: dict[str, list[str]] = {}
    for number, line in enumerate(procfile.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip().isidentifier() or not command.strip():
            raise SystemExit(f"{procfile}:{number}: expected 'name: command'")
        argv = shlex.split(command)
        if any("$" in arg for arg in argv):  # neither supervisord nor systemd would expand it as a shell does
            raise SystemExit(f"{procfile}:{number}: no shell variables; read settings from the environment instead")
        found[name.strip()] = argv
    return found


def enabled(procs: dict[str, list[str]], env: dict[str, str]) -> dict[str, list[str]]:
    """The processes to run: optional ones only when their setting is 1/true/yes/on."""
    on = {"1", "true", "yes", "on"}
    return {name: argv for name, argv in procs.items() if name not in OPTIONAL or env.get(OPTIONAL[name], "") in on}


def absolute(argv: list[str], root: Path) -> list[str]:
    """`.venv/bin/python` -> `<root>/.venv/bin/python`: both supervisord and systemd want a full program path."""
    program = argv[0] if argv[0].startswith("/") else str(root / argv[0])
    return [program, *argv[1:]]


def supervisord_conf(procs: dict[str, list[str]], *, root: Path, var: Path) -> str:
    """A supervisord configuration that restarts any process that dies, and logs that it did, on the console."""
    run = var / "run"
    head = f"""; Written by scripts/procfile.py from the Procfile at each `make run`; edit the Procfile, not this.
[supervisord]
nodaemon=true
logfile={var / "logs" / "supervisord.log"}
pidfile={run / "supervisord.pid"}
loglevel=info

[unix_http_server]
file={run / "supervisor.sock"}
chmod=0700

[supervisorctl]
serverurl=unix://{run / "supervisor.sock"}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""
    programs = [
        f"""
[program:{name}]
command={shlex.join(absolute(argv, root))}
directory={root}
environment=PYTHONUNBUFFERED="1"
autorestart=true
startsecs=3
startretries=10
stopasgroup=true
killasgroup=true
stopwaitsecs=20
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""
        for name, argv in procs.items()
    ]
    return head + "".join(programs)


def unit(name: str, argv: list[str], *, root: Path, env_file: str) -> str:
    """One systemd unit; systemd restarts the process whatever way it ends, as supervisord does under `make run`."""
    return f"""# Written by scripts/procfile.py from {root / "Procfile"}; edit the Procfile and write the units again.
[Unit]
Description=CasaOS home cloud: {name}
After=network-online.target docker.service podman.service redis-server.service
Wants=network-online.target

[Service]
EnvironmentFile={env_file}
Environment=PYTHONUNBUFFERED=1
WorkingDirectory={root}
ExecStart={shlex.join(absolute(argv, root))}
Restart=always
RestartSec=2
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def write_units(procs: dict[str, list[str]], *, directory: Path, root: Path, env_file: str) -> list[str]:
    """Write casaos-<name>.service for every process; returns the unit names."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for name, argv in procs.items():
        (directory / f"{UNIT_PREFIX}{name}.service").write_text(unit(name, argv, root=root, env_file=env_file))
        names.append(f"{UNIT_PREFIX}{name}")
    return names


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    sub = parser.add_subparsers(dest="what", required=True)
    sup = sub.add_parser("supervisord", help="write the supervisord configuration of `make run`")
    sup.add_argument("--var", type=Path, default=Path(os.environ.get("CASAOS_DATA_DIR") or ROOT / "var"))
    units = sub.add_parser("units", help="write one systemd unit per process")
    units.add_argument("--dir", type=Path, default=Path("/etc/systemd/system"))
    units.add_argument("--root", type=Path, default=ROOT, help="the checkout the units run from")
    units.add_argument("--env-file", default="/etc/casaos.env")
    args = parser.parse_args(argv)
    procs = enabled(processes(args.procfile), dict(os.environ))
    if args.what == "supervisord":
        var = args.var.resolve()
        conf = var / "run" / "supervisord.conf"
        for folder in ("run", "logs"):
            (var / folder).mkdir(parents=True, exist_ok=True)
        conf.write_text(supervisord_conf(procs, root=ROOT, var=var))
        print(conf)
    else:
        names = write_units(procs, directory=args.dir, root=args.root.resolve(), env_file=args.env_file)
        print("wrote", ", ".join(f"{n}.service" for n in names), "in", args.dir)
        print("enable them with: systemctl daemon-reload && systemctl enable --now", " ".join(names))


if __name__ == "__main__":
    main(sys.argv[1:])
