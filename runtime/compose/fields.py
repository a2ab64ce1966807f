"""Small parsers shared by the translator: types, durations, sizes, key checks, maps and lists."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from runtime.errors import ComposeError

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def check_keys(obj: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    """Reject keys we do not translate, naming the full key path; x-* extensions are always allowed."""
    allowed = set(allowed)
    for key in obj:
        if not isinstance(key, str):
            raise ComposeError(f"keys must be strings, got {key!r}", path)
        if key not in allowed and not key.startswith("x-"):
            raise ComposeError("is not supported", join(path, key))


def join(path: str, key: Any) -> str:
    """Dotted key path for error messages (services.web.build)."""
    return f"{path}.{key}" if path else str(key)


def extensions(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The x-* keys of a mapping, passed through untouched."""
    return {k: v for k, v in obj.items() if isinstance(k, str) and k.startswith("x-")}


def as_mapping(value: Any, path: str) -> dict[str, Any]:
    """A mapping, with null meaning empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ComposeError(f"must be a mapping, got {type(value).__name__}", path)
    return value


def as_list(value: Any, path: str) -> list[Any]:
    """A list, with null meaning empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ComposeError(f"must be a list, got {type(value).__name__}", path)
    return value


def as_str(value: Any, path: str) -> str:
    """A scalar as text (YAML numbers become their decimal form)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ComposeError(f"must be a string, got {type(value).__name__}", path)


def as_bool(value: Any, path: str) -> bool:
    """A boolean; interpolated strings like "true" are accepted as Compose does."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    raise ComposeError(f"must be a boolean, got {value!r}", path)


def as_int(value: Any, path: str) -> int:
    """An integer; numeric strings (often from interpolation) are accepted."""
    if isinstance(value, bool):
        raise ComposeError(f"must be an integer, got {value!r}", path)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ComposeError(f"must be an integer, got {value!r}", path)


def as_float(value: Any, path: str) -> float:
    """A number such as cpus: 0.5 or "1.5"."""
    try:
        return float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        raise ComposeError(f"must be a number, got {value!r}", path) from None


def as_str_tuple(value: Any, path: str) -> tuple[str, ...]:
    """A list of scalars, or one scalar, as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(as_str(v, f"{path}[{i}]") for i, v in enumerate(value))
    return (as_str(value, path),)


def duration(value: Any, path: str) -> float:
    """Seconds from a Go duration ("1m30s", "500ms", "1h") or a bare number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = as_str(value, path).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, pos = 0.0, 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ComposeError(f"invalid duration {text!r} (use e.g. 1m30s)", path)
    return total


def byte_size(value: Any, path: str) -> int:
    """Bytes from 512M, 1.5g, 10mb, 1gb or a bare integer (binary units, like docker)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(as_str(value, path).strip())
    if not m:
        raise ComposeError(f"invalid size {value!r} (use e.g. 512m or 1g)", path)
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def key_values(value: Any, path: str, *, sep: str = "=") -> dict[str, str | None]:
    """A mapping or a list of "k=v" strings (environment, labels, sysctls); bare "k" maps to None."""
    if isinstance(value, dict):
        return {str(k): None if v is None else as_str(v, join(path, k)) for k, v in value.items()}
    result: dict[str, str | None] = {}
    for i, item in enumerate(as_list(value, path)):
        text = as_str(item, f"{path}[{i}]")
        key, found, val = text.partition(sep)
        if not key:
            raise ComposeError(f"invalid entry {text!r}", f"{path}[{i}]")
        result[key] = val if found else None
    return result


def command(value: Any, path: str) -> tuple[str, ...] | None:
    """command/entrypoint: a list as is, a string split like a shell would (no shell runs it)."""
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(as_str(v, f"{path}[{i}]") for i, v in enumerate(value))
    try:
        return tuple(shlex.split(as_str(value, path)))
    except ValueError as exc:
        raise ComposeError(f"cannot split command: {exc}", path) from None
