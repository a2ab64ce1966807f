"""Convert a pasted `docker run ...` command into a compose document (custom apps).

The command is split like a shell would (no shell ever runs it); every option we understand becomes a compose
key, and an option we do not understand is refused by name rather than dropped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class DockerRunError(ValueError):
    """The command cannot be converted; the message names the offending part."""


# option -> (compose key, kind). Kinds: "str" single value, "list" repeatable, "flag" no value.
OPTIONS: dict[str, tuple[str, str]] = {
    "--name": ("container_name", "str"),
    "-p": ("ports", "list"),
    "--publish": ("ports", "list"),
    "-v": ("volumes", "list"),
    "--volume": ("volumes", "list"),
    "--mount": ("mount", "list"),
    "-e": ("environment", "list"),
    "--env": ("environment", "list"),
    "-l": ("labels", "list"),
    "--label": ("labels", "list"),
    "--restart": ("restart", "str"),
    "--network": ("network", "str"),
    "--net": ("network", "str"),
    "-h": ("hostname", "str"),
    "--hostname": ("hostname", "str"),
    "-u": ("user", "str"),
    "--user": ("user", "str"),
    "-w": ("working_dir", "str"),
    "--workdir": ("working_dir", "str"),
    "--entrypoint": ("entrypoint", "str"),
    "--cap-add": ("cap_add", "list"),
    "--cap-drop": ("cap_drop", "list"),
    "--device": ("devices", "list"),
    "--privileged": ("privileged", "flag"),
    "--init": ("init", "flag"),
    "--read-only": ("read_only", "flag"),
    "-t": ("tty", "flag"),
    "--tty": ("tty", "flag"),
    "-i": ("stdin_open", "flag"),
    "--interactive": ("stdin_open", "flag"),
    "-m": ("mem_limit", "str"),
    "--memory": ("mem_limit", "str"),
    "--memory-reservation": ("mem_reservation", "str"),
    "--cpus": ("cpus", "str"),
    "--shm-size": ("shm_size", "str"),
    "--memory-swap": ("memswap_limit", "str"),
    "--pids-limit": ("pids_limit", "str"),
    "--tmpfs": ("tmpfs", "list"),
    "--add-host": ("extra_hosts", "list"),
    "--sysctl": ("sysctls", "list"),
    "--ulimit": ("ulimits", "list"),
    "--dns": ("dns", "list"),
    "--dns-search": ("dns_search", "list"),
    "--pid": ("pid", "str"),
    "--ipc": ("ipc", "str"),
    "--security-opt": ("security_opt", "list"),
    "--stop-signal": ("stop_signal", "str"),
    "--stop-timeout": ("stop_grace_period", "str"),
    "--log-driver": ("log_driver", "str"),
    "--log-opt": ("log_opt", "list"),
    "--health-cmd": ("health_cmd", "str"),
    "--health-interval": ("health_interval", "str"),
    "--health-timeout": ("health_timeout", "str"),
    "--health-retries": ("health_retries", "str"),
    "--health-start-period": ("health_start_period", "str"),
    "--no-healthcheck": ("health_disable", "flag"),
    "--group-add": ("group_add", "list"),
    "--platform": ("platform", "str"),
    "--expose": ("expose", "list"),
    "--gpus": ("gpus", "str"),
}
# Options that only make sense for a one-off `docker run` and have no meaning for a managed app.
IGNORED = {"-d": "flag", "--detach": "flag", "--rm": "flag", "--pull": "str", "-q": "flag", "--quiet": "flag"}
# Options that would read files from the server or cannot be represented safely: refused with a reason.
REFUSED = {
    "--env-file": gettext_lazy("paste the variables as -e NAME=value (an env file would be read from the server)"),
    "--volumes-from": gettext_lazy("share a named volume instead"),
    "--link": gettext_lazy("links are obsolete; apps share a network and reach each other by service name"),
    "--cidfile": gettext_lazy("not meaningful for a managed app"),
}
SHORT_FLAGS = {"d", "i", "t", "q"}


@dataclass
class _Parsed:
    options: dict[str, list[str] | str | bool] = field(default_factory=dict)
    image: str = ""
    command: list[str] = field(default_factory=list)


def _tokens(command: str) -> list[str]:
    text = command.replace("\\\r\n", " ").replace("\\\n", " ").strip()
    try:
        words = shlex.split(text, comments=False)
    except ValueError as exc:
        raise DockerRunError(_("the command cannot be split into words: %(error)s") % {"error": exc}) from None
    while words and words[0] in ("sudo", "$", "#"):
        words.pop(0)
    if words[:2] == ["docker", "run"] or words[:2] == ["podman", "run"]:
        return words[2:]
    if words[:3] in (["docker", "container", "run"], ["podman", "container", "run"]):
        return words[3:]
    raise DockerRunError(_("the command must start with `docker run`"))


def _split_option(word: str) -> list[tuple[str, str | None]]:
    """`--name=x` -> (--name, x); `-it` -> (-i), (-t); `-p8080:80` -> (-p, 8080:80); `--rm` -> (--rm, None)."""
    if word.startswith("--"):
        name, eq, inline = word.partition("=")
        return [(name, inline if eq else None)]
    letters = word[1:]
    if len(letters) > 1 and all(ch in SHORT_FLAGS for ch in letters):
        return [(f"-{ch}", None) for ch in letters]
    if len(letters) > 1:
        value = letters[1:]
        return [(word[:2], value[1:] if value.startswith("=") else value)]
    return [(word, None)]


def _parse(words: list[str]) -> _Parsed:
    parsed = _Parsed()
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("-") or word == "-":
            parsed.image, parsed.command = word, words[i + 1 :]
            return parsed
        for name, inline in _split_option(word):
            if name in REFUSED:
                raise DockerRunError(_("%(option)s is not supported: %(why)s") % {"option": name, "why": REFUSED[name]})
            kind = OPTIONS[name][1] if name in OPTIONS else IGNORED.get(name)
            if kind is None:
                raise DockerRunError(_("unknown option %(option)s") % {"option": name})
            if kind == "flag":
                if inline is not None and inline.lower() not in ("true", "false"):
                    raise DockerRunError(_("%(option)s takes no value") % {"option": name})
                value: str | bool = inline is None or inline.lower() == "true"
            elif inline is not None:
                value = inline
            else:
                i += 1
                if i >= len(words):
                    raise DockerRunError(_("%(option)s needs a value") % {"option": name})
                value = words[i]
            if name in IGNORED:
                continue
            key = OPTIONS[name][0]
            if kind == "list":
                parsed.options.setdefault(key, []).append(value)  # type: ignore[union-attr]
            else:
                parsed.options[key] = value
        i += 1
    raise DockerRunError(_("no image named: the command ends before the image"))


def _key_value_list(items: list[str], what: str) -> dict[str, str]:
    result = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise DockerRunError(_("%(option)s %(item)r has no name") % {"option": what, "item": item})
        # `-e NAME` alone passes the variable from the shell that ran docker: we have no such shell.
        result[key] = value if eq else ""
    return result


def _mount(spec: str) -> dict:
    fields = {}
    for part in spec.split(","):
        key, _sep, value = part.partition("=")
        fields[key.strip()] = value.strip()
    kind = fields.get("type", "volume")
    source = fields.get("source") or fields.get("src") or ""
    target = fields.get("target") or fields.get("destination") or fields.get("dst") or ""
    if not target:
        raise DockerRunError(_("--mount %(spec)r has no target") % {"spec": spec})
    entry: dict = {"type": kind, "target": target}
    if source:
        entry["source"] = source
    if "readonly" in fields or fields.get("ro") in ("", "true", "1"):
        entry["read_only"] = True
    return entry


def _healthcheck(opts: dict) -> dict | None:
    if opts.pop("health_disable", False):
        return {"disable": True}
    check = {}
    if "health_cmd" in opts:
        check["test"] = ["CMD-SHELL", opts.pop("health_cmd")]
    for name in ("interval", "timeout", "start_period"):
        if f"health_{name}" in opts:
            check[name] = opts.pop(f"health_{name}")
    if "health_retries" in opts:
        check["retries"] = int(opts.pop("health_retries"))
    return check or None


def _service_name(opts: dict, image: str) -> str:
    base = str(opts.get("container_name") or image.rsplit("/", 1)[-1].split("@")[0].split(":")[0])
    name = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-_")
    return name or "app"


def service_from_run(command: str) -> tuple[str, dict]:
    """The service name and compose service mapping for one `docker run` command."""
    parsed = _parse(_tokens(command))
    opts = dict(parsed.options)
    service: dict = {"image": parsed.image}
    if parsed.command:
        service["command"] = parsed.command
    health = _healthcheck(opts)
    if health:
        service["healthcheck"] = health
    if "environment" in opts:
        service["environment"] = _key_value_list(opts.pop("environment"), "environment variable")
    if "labels" in opts:
        service["labels"] = _key_value_list(opts.pop("labels"), "label")
    if "sysctls" in opts:
        service["sysctls"] = _key_value_list(opts.pop("sysctls"), "sysctl")
    if "mount" in opts:
        service.setdefault("volumes", []).extend(_mount(m) for m in opts.pop("mount"))
    if "volumes" in opts:
        service["volumes"] = [*opts.pop("volumes"), *service.get("volumes", [])]
    if "ulimits" in opts:
        service["ulimits"] = _ulimits(opts.pop("ulimits"))
    if "log_driver" in opts or "log_opt" in opts:
        service["logging"] = {
            "driver": opts.pop("log_driver", "json-file"),
            "options": _key_value_list(opts.pop("log_opt", []), "log option"),
        }
    if "network" in opts:
        network = opts.pop("network")
        if network in ("host", "none", "bridge") or network.startswith(("container:", "service:")):
            service["network_mode"] = network
        else:
            service["networks"] = [network]
    if "stop_grace_period" in opts:
        service["stop_grace_period"] = f"{opts.pop('stop_grace_period')}s"
    if "gpus" in opts:
        raise DockerRunError(_("--gpus is not supported yet"))
    service.update(opts)
    return _service_name(parsed.options, parsed.image), service


def _ulimits(items: list[str]) -> dict:
    limits: dict = {}
    for item in items:
        name, _sep, value = item.partition("=")
        soft, _sep, hard = value.partition(":")
        if not name or not soft.lstrip("-").isdigit() or (hard and not hard.lstrip("-").isdigit()):
            raise DockerRunError(_("--ulimit %(item)r must look like nofile=1024:2048") % {"item": item})
        limits[name] = {"soft": int(soft), "hard": int(hard)} if hard else int(soft)
    return limits


def compose_from_run(commands: str) -> str:
    """A compose document for one or more `docker run` commands, one per line (backslash continuations joined)."""
    services: dict[str, dict] = {}
    networks: set[str] = set()
    volumes: set[str] = set()
    for command in _split_commands(commands):
        name, service = service_from_run(command)
        if name in services:
            raise DockerRunError(
                _("two commands give the service name %(name)r: add --name to one of them") % {"name": name}
            )
        services[name] = service
        networks.update(service.get("networks", []))
        volumes.update(_named_volumes(service.get("volumes", [])))
    if not services:
        raise DockerRunError(_("paste at least one `docker run` command"))
    document: dict = {"services": services}
    # `docker run` creates named volumes and networks on the fly; compose wants them declared.
    if networks:
        document["networks"] = {name: {} for name in sorted(networks)}
    if volumes:
        document["volumes"] = {name: {} for name in sorted(volumes)}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _named_volumes(entries: list) -> set[str]:
    names = set()
    for entry in entries:
        if isinstance(entry, dict):
            source = entry.get("source", "") if entry.get("type") == "volume" else ""
        else:
            source, sep, _rest = entry.partition(":")
            source = source if sep else ""
        if source and not source.startswith(("/", ".", "~", "$")):
            names.add(source)
    return names


def _split_commands(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)
    return [line.strip() for line in re.split(r"\r?\n", joined) if line.strip()]
