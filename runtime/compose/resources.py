"""Service sub-blocks: deploy, healthcheck, logging, ulimits, devices, restart, extra_hosts."""

from __future__ import annotations

from typing import Any

from runtime.compose.fields import (
    as_bool,
    as_float,
    as_int,
    as_list,
    as_mapping,
    as_str,
    as_str_tuple,
    byte_size,
    check_keys,
    duration,
    join,
    key_values,
)
from runtime.errors import ComposeError
from runtime.specs import DeviceRequest, DeviceSpec, HealthcheckSpec, LoggingSpec, Ulimit

_RESTARTS = ("no", "always", "unless-stopped", "on-failure")
_HEALTH_KEYS = ("test", "interval", "timeout", "retries", "start_period", "start_interval", "disable")


def restart_policy(value: Any, path: str) -> str:
    """no | always | unless-stopped | on-failure[:N]."""
    text = as_str(value, path)
    base, _, count = text.partition(":")
    if base not in _RESTARTS or (count and (base != "on-failure" or not count.isdigit())):
        raise ComposeError(f"invalid restart policy {text!r}", path)
    return text


def healthcheck(value: Any, path: str) -> HealthcheckSpec | None:
    """Healthcheck with `test` as a string (shell form) or list (CMD / CMD-SHELL / NONE)."""
    hc = as_mapping(value, path)
    check_keys(hc, _HEALTH_KEYS, path)
    if as_bool(hc.get("disable", False), join(path, "disable")):
        return HealthcheckSpec(test=("NONE",))
    test: tuple[str, ...] = ()
    if isinstance(hc.get("test"), str):
        test = ("CMD-SHELL", hc["test"])
    elif "test" in hc:
        test = as_str_tuple(hc["test"], join(path, "test"))
        if test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ComposeError("a test list must start with CMD, CMD-SHELL or NONE", join(path, "test"))
    times = {
        k: duration(hc[k], join(path, k))
        for k in ("interval", "timeout", "start_period", "start_interval")
        if hc.get(k) is not None
    }
    retries = as_int(hc["retries"], join(path, "retries")) if hc.get("retries") is not None else None
    return HealthcheckSpec(test=test, retries=retries, **times)


def logging(value: Any, path: str) -> LoggingSpec:
    """Log driver and string options."""
    log = as_mapping(value, path)
    check_keys(log, ("driver", "options"), path)
    options = {k: v or "" for k, v in key_values(log.get("options") or {}, join(path, "options")).items()}
    return LoggingSpec(driver=as_str(log.get("driver", ""), join(path, "driver")), options=options)


def ulimits(value: Any, path: str) -> tuple[Ulimit, ...]:
    """`nofile: 1024` or `nofile: {soft: 1024, hard: 2048}`."""
    result = []
    for name, limit in as_mapping(value, path).items():
        item_path = join(path, name)
        if isinstance(limit, dict):
            check_keys(limit, ("soft", "hard"), item_path)
            soft, hard = as_int(limit.get("soft"), item_path), as_int(limit.get("hard"), item_path)
        else:
            soft = hard = as_int(limit, item_path)
        result.append(Ulimit(name=str(name), soft=soft, hard=hard))
    return tuple(result)


def devices(value: Any, path: str) -> tuple[DeviceSpec, ...]:
    """ "/dev/x[:/dev/y[:rwm]]" or {source, target, permissions}."""
    result = []
    for i, item in enumerate(as_list(value, path)):
        item_path = f"{path}[{i}]"
        if isinstance(item, dict):
            check_keys(item, ("source", "target", "permissions"), item_path)
            parts = [as_str(item.get(k, ""), item_path) for k in ("source", "target", "permissions")]
        else:
            parts = as_str(item, item_path).split(":")
        host = parts[0]
        if not host.startswith("/") or len(parts) > 3:
            raise ComposeError(f"invalid device {item!r} (CDI names are not supported)", item_path)
        container = parts[1] if len(parts) > 1 and parts[1] else host
        result.append(
            DeviceSpec(
                host_path=host, container_path=container, permissions=parts[2] if len(parts) > 2 and parts[2] else "rwm"
            )
        )
    return tuple(result)


def extra_hosts(value: Any, path: str) -> tuple[str, ...]:
    """ "host:ip", "host=ip" or a mapping, normalised to "host:ip" as the engine wants."""
    if isinstance(value, dict):
        return tuple(f"{k}:{as_str(v, join(path, k))}" for k, v in value.items())
    result = []
    for i, item in enumerate(as_list(value, path)):
        text = as_str(item, f"{path}[{i}]")
        host, sep, ip = text.partition("=") if "=" in text else text.partition(":")
        if not sep or not host or not ip:
            raise ComposeError(f"invalid extra host {text!r}", f"{path}[{i}]")
        result.append(f"{host}:{ip}")
    return tuple(result)


def deploy(value: Any, path: str) -> dict[str, Any]:
    """The parts of `deploy` that apply to a single container, as ContainerSpec keyword arguments."""
    dep = as_mapping(value, path)
    check_keys(dep, ("resources", "restart_policy", "replicas", "mode"), path)
    if dep.get("mode", "replicated") != "replicated" or as_int(dep.get("replicas", 1), join(path, "replicas")) != 1:
        raise ComposeError("only a single replicated container is supported", path)
    result: dict[str, Any] = {}
    res = as_mapping(dep.get("resources"), join(path, "resources"))
    check_keys(res, ("limits", "reservations"), join(path, "resources"))
    result.update(_limits(res.get("limits"), join(path, "resources.limits")))
    result.update(_reservations(res.get("reservations"), join(path, "resources.reservations")))
    if dep.get("restart_policy") is not None:
        result["restart"] = _deploy_restart(dep["restart_policy"], join(path, "restart_policy"))
    return result


def _limits(value: Any, path: str) -> dict[str, Any]:
    """deploy.resources.limits: cpus, memory, pids."""
    lim = as_mapping(value, path)
    check_keys(lim, ("cpus", "memory", "pids"), path)
    out: dict[str, Any] = {}
    if lim.get("cpus") is not None:
        out["cpus"] = as_float(lim["cpus"], join(path, "cpus"))
    if lim.get("memory") is not None:
        out["mem_limit"] = byte_size(lim["memory"], join(path, "memory"))
    if lim.get("pids") is not None:
        out["pids_limit"] = as_int(lim["pids"], join(path, "pids"))
    return out


def _reservations(value: Any, path: str) -> dict[str, Any]:
    """deploy.resources.reservations: cpus, memory, devices (GPU requests)."""
    res = as_mapping(value, path)
    check_keys(res, ("cpus", "memory", "devices"), path)
    out: dict[str, Any] = {}
    if res.get("cpus") is not None:
        out["cpus_reservation"] = as_float(res["cpus"], join(path, "cpus"))
    if res.get("memory") is not None:
        out["mem_reservation"] = byte_size(res["memory"], join(path, "memory"))
    if res.get("devices") is not None:
        out["device_requests"] = tuple(
            _device_request(d, f"{path}.devices[{i}]")
            for i, d in enumerate(as_list(res["devices"], join(path, "devices")))
        )
    return out


def _device_request(value: Any, path: str) -> DeviceRequest:
    """One GPU reservation: {driver, count (int or "all"), device_ids, capabilities, options}."""
    dev = as_mapping(value, path)
    check_keys(dev, ("driver", "count", "device_ids", "capabilities", "options"), path)
    count = dev.get("count")
    if count is None:
        count = 0 if dev.get("device_ids") else -1
    elif str(count) == "all":
        count = -1
    else:
        count = as_int(count, join(path, "count"))
    options = {k: v or "" for k, v in key_values(dev.get("options") or {}, join(path, "options")).items()}
    return DeviceRequest(
        driver=as_str(dev.get("driver", ""), join(path, "driver")),
        count=count,
        device_ids=as_str_tuple(dev.get("device_ids"), join(path, "device_ids")),
        capabilities=as_str_tuple(dev.get("capabilities"), join(path, "capabilities")),
        options=options,
    )


def _deploy_restart(value: Any, path: str) -> str:
    """Swarm-style restart_policy mapped to the container restart policy Compose uses."""
    pol = as_mapping(value, path)
    check_keys(pol, ("condition", "max_attempts"), path)
    condition = as_str(pol.get("condition", "any"), join(path, "condition"))
    mapping = {"none": "no", "any": "always", "on-failure": "on-failure"}
    if condition not in mapping:
        raise ComposeError(f"invalid condition {condition!r}", join(path, "condition"))
    attempts = pol.get("max_attempts")
    if mapping[condition] == "on-failure" and attempts is not None:
        return f"on-failure:{as_int(attempts, join(path, 'max_attempts'))}"
    return mapping[condition]
