"""Compose-spec variable interpolation that reads ONLY the mapping it is given (never os.environ)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runtime.compose.model import RequiredVariable
from runtime.errors import ComposeError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest operators first so ":-" is not read as "-".
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
# Where unset variables are written down: plain references (Compose warns and uses ""), and, when the caller
# asks, ${V:?message} ones (an install form then asks for them instead of the file being refused).
Notes = tuple[set[str] | None, dict[str, RequiredVariable] | None]


class MissingVariable(ComposeError):
    """A ${NAME:?message} variable has no value; `name` says which."""

    def __init__(self, name: str, message: str, path: str = "") -> None:
        super().__init__(message, path)
        self.name = name


def interpolate_tree(
    tree: Any,
    mapping: Mapping[str, str],
    *,
    path: str = "",
    missing: set[str] | None = None,
    required: dict[str, RequiredVariable] | None = None,
) -> Any:
    """Return a copy of a parsed compose tree with every string value interpolated (keys are left alone)."""
    kw = {"missing": missing, "required": required}
    if isinstance(tree, dict):
        return {k: interpolate_tree(v, mapping, path=_join(path, k), **kw) for k, v in tree.items()}
    if isinstance(tree, list):
        return [interpolate_tree(v, mapping, path=f"{path}[{i}]", **kw) for i, v in enumerate(tree)]
    if isinstance(tree, str):
        return interpolate(tree, mapping, path=path, **kw)
    return tree


def interpolate(
    text: str,
    mapping: Mapping[str, str],
    *,
    path: str = "",
    missing: set[str] | None = None,
    required: dict[str, RequiredVariable] | None = None,
) -> str:
    """Expand $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+a}, ${V+a} and $$ in one string.

    An unset required variable raises MissingVariable, unless `required` is given: it is recorded there and
    expands to "".
    """
    notes: Notes = (missing, required)
    out: list[str] = []
    i = 0
    while i < len(text):
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        value, i = _expand_at(text, j, mapping, path, notes)
        out.append(value)
    return "".join(out)


def _expand_at(text: str, j: int, mapping: Mapping[str, str], path: str, notes: Notes) -> tuple[str, int]:
    """Expand the reference starting at text[j] == '$'; return its value and the index after it."""
    nxt = text[j + 1 : j + 2]
    if nxt == "$":
        return "$", j + 2
    if nxt == "{":
        end = _closing_brace(text, j + 2, path)
        return _expand_braced(text[j + 2 : end], mapping, path, notes), end + 1
    m = _NAME.match(text, j + 1)
    if not m:
        return "$", j + 1  # like Compose, "$5" or "$(cmd)" is not a reference and stays literal
    return _lookup(m.group(), mapping, notes[0]), m.end()


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


def _expand_braced(body: str, mapping: Mapping[str, str], path: str, notes: Notes) -> str:
    """Expand the inside of ${...}."""
    m = _NAME.match(body)
    if not m:
        raise ComposeError(f"invalid variable name in ${{{body}}}", path)
    name, rest = m.group(), body[m.end() :]
    if not rest:
        return _lookup(name, mapping, notes[0])
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise ComposeError(f"invalid interpolation ${{{body}}}", path)
    arg = rest[len(op) :]
    is_set = name in mapping
    is_nonempty = is_set and mapping[name] != ""
    present = is_nonempty if op.startswith(":") else is_set
    if op in (":-", "-"):
        return mapping[name] if present else interpolate(arg, mapping, path=path, missing=notes[0], required=notes[1])
    if op in (":+", "+"):
        return interpolate(arg, mapping, path=path, missing=notes[0], required=notes[1]) if present else ""
    if not present:  # ":?" / "?": a required variable
        return _required(name, interpolate(arg, mapping, path=path), allow_empty=op == "?", path=path, notes=notes)
    return mapping[name]


def _required(name: str, message: str, *, allow_empty: bool, path: str, notes: Notes) -> str:
    """An unset required variable: written down when the caller collects them, else an error naming it."""
    required = notes[1]
    if required is None:
        raise MissingVariable(name, message or f"required variable {name} is missing a value", path)
    seen = required.get(name)
    if seen is not None:  # asked for twice: the first message, and empty only if both allow it
        message, allow_empty = seen.message or message, seen.allow_empty and allow_empty
    required[name] = RequiredVariable(name, message, allow_empty=allow_empty)
    return ""


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
