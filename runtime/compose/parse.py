"""YAML loading for compose files: YAML 1.2-like scalars, anchors and `<<:` merges, CRLF, duplicate keys rejected."""

from __future__ import annotations

import re
from typing import Any

import yaml

from runtime.errors import ComposeError

MAX_BYTES = 1 << 20  # a compose file is text written by hand; anything larger is an attack or a mistake
MAX_DEPTH = 64  # real compose files nest about 6 deep
MAX_NODES = 100_000  # values after alias expansion; the largest real store app has a few hundred


class _Loader(yaml.SafeLoader):
    """SafeLoader that resolves scalars like Compose's YAML 1.2 parser does."""


# YAML 1.1 reads `yes`/`no`/`on`/`off` as booleans and `22:22` as a base-60 integer; Compose (YAML 1.2)
# keeps them as strings, which matters for ports like `- 22:22` and env values like `FOO: no`.
_Loader.yaml_implicit_resolvers = {
    ch: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """Ints in YAML 1.2 core form (0o / 0x prefixes)."""
    text = loader.construct_scalar(node)
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """Mapping constructor that refuses duplicate keys (Compose does too); `<<` merges are expanded first."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # merged keys may be overridden by the mapping's own keys
        key = loader.construct_object(key_node, deep=True)
        if key in seen:  # reported like a syntax error: where the second one is
            raise yaml.constructor.ConstructorError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# libyaml's parser when present (20x faster; events carry the same anchors); the shape does not depend on scalars.
_EVENTS = getattr(yaml, "CSafeLoader", _Loader)


def check_shape(text: str) -> None:
    """Refuse a document too deep or too large once its aliases are expanded, before anything is built from it.

    One pass over the parser's events (the parser is not recursive; PyYAML's composer and constructor are): each
    anchor's expanded size is known when its node ends, and an alias adds that size where it is used. A 370-byte
    "billion laughs" is refused after reading it, not after gigabytes of dicts; 5,000 levels of nesting are refused
    before Python recurses into them. Cost is linear in the text.
    """
    open_sizes: list[list] = []  # per open collection: [expanded size so far, its anchor]
    anchored: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_EVENTS):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_sizes) >= MAX_DEPTH:
                raise ComposeError(f"the document is nested deeper than {MAX_DEPTH} levels")
            open_sizes.append([1, event.anchor])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_sizes.pop()
        elif isinstance(event, yaml.AliasEvent):
            size, anchor = anchored.get(event.anchor, 1), None
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        else:
            continue
        if anchor:
            anchored[anchor] = size
        if open_sizes:
            open_sizes[-1][0] += size
            if open_sizes[-1][0] > MAX_NODES:
                raise ComposeError(f"the document has more than {MAX_NODES:,} values once its aliases are expanded")


def load_yaml(text: str | bytes) -> dict[str, Any]:
    """Parse compose YAML into plain dicts/lists/scalars; the top level must be a mapping."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ComposeError("compose file is larger than 1 MiB")
        text = text.decode("utf-8-sig")
    if len(text) > MAX_BYTES:
        raise ComposeError("compose file is larger than 1 MiB")
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    try:
        check_shape(text)
        tree = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _marked(exc, text) from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"invalid YAML: {exc}") from None
    if not isinstance(tree, dict):
        raise ComposeError("a compose file must be a mapping at the top level")
    return tree


def _marked(exc: yaml.MarkedYAMLError, text: str) -> ComposeError:
    """The error where the parser stopped: line and column from 1, the problem in its words, and the line itself
    (a person finds a stray colon or tab faster by its text than by a number)."""
    mark = exc.problem_mark or exc.context_mark
    lines = text.split("\n")
    number = min(mark.line, len(lines) - 1)  # an error at the very end points past the last line
    while number > 0 and not lines[number].strip():
        number -= 1  # "expected ']' but found end of stream": the unclosed line is the one to show
    source = lines[number]
    column = mark.column + 1 if number == mark.line else len(source) + 1
    problem = f"{exc.problem} ({exc.context})" if exc.context else exc.problem
    return ComposeError(
        f"invalid YAML at line {number + 1}, column {column}: {problem}; the line reads {source.rstrip()!r}",
        line=number + 1,
        column=column,
        source_line=source,
    )
