"""Image references checked against the distribution/reference grammar before any of them reaches the engine.

docker-py has no validating parser (`docker.utils.parse_repository_tag` only splits at the last `:` or `@`), so
this is the grammar of github.com/distribution/reference (regexp.go, normalize.go), written out:

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*   (at most 255 characters)
    domain     := host [ ":" port ]     host: DNS labels (any case) or a bracketed IPv6 address
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex{32,}   (sha256: 64 hex digits, sha512: 128)

As in normalize.go, the first component is a registry host only when it has a `.` or `:`, is `localhost`, or has
capitals; otherwise it is a path component (Docker Hub), which must be lowercase.
"""

from __future__ import annotations

import re

NAME_MAX = 255  # NameTotalLengthMax: the name part, without tag and digest
SHOWN_MAX = 60  # characters of a refused reference repeated in the message (a 10 KB name is not echoed whole)

_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?", re.ASCII)
_REMOTE = re.compile(rf"{_PATH}(?:/{_PATH})*", re.ASCII)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}", re.ASCII)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def image_reference_problem(ref: str) -> str:
    """Why `ref` is not a valid image reference, or "" when it is."""
    if not ref:
        return "it is empty"
    name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
    if digest and not _digest_ok(digest):
        return "its digest is not algorithm:hex (e.g. sha256: and 64 hex digits)"
    name, tag = _split_tag(name)
    if tag is not None and not _TAG.fullmatch(tag):
        return "its tag may only hold letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')"
    if len(name) > NAME_MAX:
        return f"its name is longer than {NAME_MAX} characters"
    return _name_problem(name)


def shown(ref: str) -> str:
    """A refused reference as a message may repeat it: printable and short."""
    text = ref.encode("unicode_escape").decode("ascii")
    return repr(text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…")


def _split_tag(name: str) -> tuple[str, str | None]:
    """(name, tag): the tag follows the last ':' after the last '/' (a ':' before it is a registry port)."""
    head, slash, last = name.rpartition("/")
    if ":" not in last:
        return name, None
    repo, _colon, tag = last.rpartition(":")
    return head + slash + repo, tag


def _name_problem(name: str) -> str:
    """The name part: an optional registry host, then lowercase path components."""
    first, slash, rest = name.partition("/")
    if slash and _is_domain(first):
        if not _DOMAIN.fullmatch(first):
            return "its registry host is not a valid host[:port]"
        name = rest
    if _REMOTE.fullmatch(name):
        return ""
    if _REMOTE.fullmatch(name.lower()):
        return "repository names must be lowercase"
    return "a repository name is lowercase letters and digits separated by '/', '.', '_', '__' or '-'"


def _is_domain(first: str) -> bool:
    """normalize.go's rule for "is the first component a registry host"."""
    return "." in first or ":" in first or first == "localhost" or first != first.lower()


def _digest_ok(digest: str) -> bool:
    if not _DIGEST.fullmatch(digest):
        return False
    algorithm, _colon, hexpart = digest.partition(":")
    return len(hexpart) == _DIGEST_LENGTHS.get(algorithm, len(hexpart))
