"""Compose-spec variable interpolation that reads ONLY the mapping it is given (never os.environ)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runtime.errors import ComposeError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest operators first so ":-" is not read as "-".
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def interpolate_tree(tree: Any, mapping: Mapping[str, str], *, path: str = "", missing: set[str] | None = None) -> Any:
    """Return a copy of a parsed compose tree with every string value interpolated (keys are left alone)."""
    if isinstance(tree, dict):
        return {k: interpolate_tree(v, mapping, path=_join(path, k), missing=missing) for k, v in tree.items()}
    if isinstance(tree, list):
        return [interpolate_tree(v, mapping, path=f"{path}[{i}]", missing=missing) for i, v in enumerate(tree)]
    if isinstance(tree, str):
        return interpolate(tree, mapping, path=path, missing=missing)
    return tree


def interpolate(text: str, mapping: Mapping[str, str], *, path: str = "", missing: set[str] | None = None) -> str:
    """Expand $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+a}, ${V+a} and $$ in one string."""
    out: list[str] = []
    i = 0
    while i < len(text):
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        value, i = _expand_at(text, j, mapping, path, missing)
        out.append(value)
    return "".join(out)


def _expand_at(text: str, j: int, mapping: Mapping[str, str], path: str, missing: set[str] | None) -> tuple[str, int]:
    """Expand the reference starting at text[j] == '$'; return its value and the index after it."""
    nxt = text[j + 1 : j + 2]
    if nxt == "$":
        return "$", j + 2
    if nxt == "{":
        end = _closing_brace(text, j + 2, path)
        return _expand_braced(text[j + 2 : end], mapping, path, missing), end + 1
    m = _NAME.match(text, j + 1)
    if not m:
        return "$", j + 1  # like Compose, "$5" or "$(cmd)" is not a reference and stays literal
    return _lookup(m.group(), mapping, missing), m.end()


def _closing_brace(text: str, start: int, path: str) -> int:
    """Index of the '}' that closes a '${', honouring nested '${...}' in defaults."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ComposeError(f"unterminated ${{ in {text!r}", path)


def _expand_braced(body: str, mapping: Mapping[str, str], path: str, missing: set[str] | None) -> str:
    """Expand the inside of ${...}."""
    m = _NAME.match(body)
    if not m:
        raise ComposeError(f"invalid variable name in ${{{body}}}", path)
    name, rest = m.group(), body[m.end() :]
    if not rest:
        return _lookup(name, mapping, missing)
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise ComposeError(f"invalid interpolation ${{{body}}}", path)
    arg = rest[len(op) :]
    is_set = name in mapping
    is_nonempty = is_set and mapping[name] != ""
    present = is_nonempty if op.startswith(":") else is_set
    if op in (":-", "-"):
        return mapping[name] if present else interpolate(arg, mapping, path=path, missing=missing)
    if op in (":+", "+"):
        return interpolate(arg, mapping, path=path, missing=missing) if present else ""
    if not present:  # ":?" / "?": a required variable
        message = (
            interpolate(arg, mapping, path=path, missing=missing) or f"required variable {name} is missing a value"
        )
        raise ComposeError(message, path)
    return mapping[name]


def _lookup(name: str, mapping: Mapping[str, str], missing: set[str] | None) -> str:
    """Plain reference: an unset variable becomes "" (Compose warns; we record it for the caller)."""
    if name in mapping:
        return str(mapping[name])
    if missing is not None:
        missing.add(name)
    return ""


def _join(path: str, key: Any) -> str:
    """Dotted key path for error messages."""
    return f"{path}.{key}" if path else str(key)
