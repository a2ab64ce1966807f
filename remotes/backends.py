"""What each kind of remote takes (options that may be shown, secrets that may not) and its rclone config section.

Only the names listed here reach a config file; values are checked for line breaks and control characters before
(rclone's config syntax is one `key = value` per line, so a line break would add keys or sections).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from casaos_site.i18n import deferred, shown

HOST = re.compile(r"^[A-Za-z0-9._:\[\]-]{1,253}$")
MAX_VALUE = 2048


class RemoteRefused(Exception):
    """A request we will not carry out, with the reason in words (shown as is) and an HTTP status."""

    def __init__(self, message: str, *, code: str = "refused", status: int = 400) -> None:
        self.stored = message  # a deferred() id and parameters: what a row records, shown in each reader's words
        self.message = shown(message)  # in the language active now (a request's)
        super().__init__(self.message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Backend:
    """One kind: its options, the required ones, its secrets (and which rclone wants obscured), and where its
    folder comes from (`place`: the options that make the path after "remote:")."""

    options: tuple[str, ...]
    required: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    obscured: tuple[str, ...] = ()
    place: tuple[str, ...] = ("path",)
    oauth: bool = False


_OAUTH = ("client_id", "auth_url", "token_url", "path")
BACKENDS = {
    "smb": Backend(("host", "port", "user", "domain", "share", "path"), ("host", "share"), ("pass",), ("pass",),
                   place=("share", "path")),
    "nfs": Backend(("host", "export"), ("host", "export"), place=()),
    "webdav": Backend(("url", "vendor", "user", "path"), ("url",), ("pass", "bearer_token"), ("pass",)),
    "sftp": Backend(("host", "port", "user", "path"), ("host", "user"), ("pass",), ("pass",)),
    "s3": Backend(("provider", "endpoint", "region", "bucket", "path"), ("bucket",),
                  ("access_key_id", "secret_access_key"), place=("bucket", "path")),
    "drive": Backend((*_OAUTH, "scope", "root_folder_id"), secrets=("client_secret", "token"), oauth=True),
    "dropbox": Backend(_OAUTH, secrets=("client_secret", "token"), oauth=True),
    "onedrive": Backend((*_OAUTH, "drive_id", "drive_type"), secrets=("client_secret", "token"), oauth=True),
}  # fmt: skip
DEFAULTS = {"webdav": {"vendor": "other"}, "s3": {"provider": "Other"}}


def backend(kind: str) -> Backend:
    try:
        return BACKENDS[kind]
    except KeyError:
        raise RemoteRefused(deferred("“%(kind)s” is not a kind of remote we mount.", kind=kind)) from None


def _one_line(name: str, value) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RemoteRefused(deferred("“%(name)s” must be text.", name=name))
    value = str(value).strip()
    if len(value) > MAX_VALUE or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise RemoteRefused(deferred("“%(name)s” holds a line break or a control character.", name=name))
    return value


def _path(name: str, value: str) -> str:
    parts = [p for p in value.replace("\\", "/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise RemoteRefused(deferred("“%(name)s” must not contain “..”.", name=name))
    return "/".join(parts)


def folder(value: str) -> str:
    """A folder inside a remote as another app names it ("a/b": one line, no "..", slashes tidied)."""
    return _path("path", _one_line("path", value))


def _checked(name: str, value: str) -> str:
    if name in ("path", "share", "export", "bucket"):
        return _path(name, value)
    if name == "host" and not (HOST.match(value) and not value.startswith("-")):
        raise RemoteRefused(deferred("“%(value)s” is not a host name or an address.", value=value))
    if name == "port" and not (value.isdigit() and 0 < int(value) < 65536):
        raise RemoteRefused(deferred("The port is a number from 1 to 65535."))
    if name in ("url", "auth_url", "token_url", "endpoint") and value:
        _url(name, value)
    return value


def _url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteRefused(deferred("“%(name)s” must be an http:// or https:// address.", name=name))


def clean(kind: str, values: dict, allowed: tuple[str, ...]) -> dict[str, str]:
    """Only known names, each a single line and valid for what it is."""
    if not isinstance(values, dict):
        raise RemoteRefused(deferred("Options and secrets are objects of names and values."))
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise RemoteRefused(
            deferred("%(kind)s remotes take no “%(names)s” setting.", kind=kind, names=", ".join(unknown))
        )
    cleaned = {name: _one_line(name, value) for name, value in values.items()}
    return {name: _checked(name, value) for name, value in cleaned.items() if value != ""}


def check_required(kind: str, options: dict) -> None:
    missing = [name for name in backend(kind).required if not options.get(name)]
    if missing:
        raise RemoteRefused(deferred("Fill in: %(names)s.", names=", ".join(missing)))


def place(kind: str, options: dict) -> str:
    """The folder of the remote after "remote:" (a share and its folder, a bucket and its folder)."""
    return "/".join(options[name] for name in backend(kind).place if options.get(name))


def config_section(kind: str, options: dict, secrets: dict, obscure) -> dict[str, str]:
    """The rclone config section: type, the options rclone reads, the secrets (obscured where rclone wants it)."""
    spec = backend(kind)
    section = {"type": kind, **DEFAULTS.get(kind, {})}
    section.update({k: v for k, v in options.items() if k not in spec.place})
    for name, value in secrets.items():
        section[name] = obscure(value) if name in spec.obscured else value
    if kind == "sftp":
        section.setdefault("shell_type", "none")  # no remote shell commands (checksums): plain SFTP only
    return section
