"""HTTP downloads from store URLs without opening an SSRF door.

Only http(s); every hop of a redirect is followed by us, not by requests (at most MAX_REDIRECTS), and each
connection goes only where appstore/connections.py allows. One wall-clock deadline covers the whole download
(connect, headers, body); sizes are counted while streaming, never trusted from headers.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from .addresses import address_kind
from .connections import BlockedAddress, Deadline, FetchError, Unreachable, capped, refusal, session

__all__ = ["BlockedAddress", "Download", "FetchError", "Limits", "NotModified", "Unreachable", "check_url", "fetch"]

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class NotModified(Exception):
    """The server says our copy is current (HTTP 304)."""


# errno of the socket under a failed connection -> what it means for a person
_ERRNO_CODES = {
    errno.ENETUNREACH: "offline",
    errno.EHOSTUNREACH: "offline",
    errno.ENETDOWN: "offline",
    errno.ECONNREFUSED: "refused",
    errno.ETIMEDOUT: "timeout",
}


@dataclass(frozen=True)
class Limits:
    """How much and how long one download may take (`deadline`: seconds for all of it)."""

    max_bytes: int
    connect_timeout: float = 5
    read_timeout: float = 15
    deadline: float = 180


@dataclass
class Download:
    """What a finished download gives back: the body (in memory or in `path`) and its validators."""

    url: str
    size: int
    sha256: str
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    body: bytes | None = None
    path: Path | None = None


def check_url(url: str) -> str:
    """Refuse anything but http(s) URLs with a host and without credentials, and metadata addresses spelt out."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'!r}", "url")
    if not parts.hostname:
        raise FetchError("the URL has no host", "url")
    if parts.username or parts.password:
        raise FetchError("URLs with a user name or password are not allowed", "url")
    if _is_ip(parts.hostname) and address_kind(parts.hostname) == "never":
        raise refusal(parts.hostname, parts.hostname, allow_lan=True)
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- requests and redirects
def _open(s: requests.Session, url: str, headers: dict[str, str], limits: Limits, deadline: Deadline):
    """GET following at most MAX_REDIRECTS redirects ourselves, each hop checked again."""
    for hop in range(MAX_REDIRECTS + 1):
        resp = _get(s, url, headers, limits, deadline, redirected=hop > 0)
        if not resp.is_redirect:
            return resp
        resp.close()
        url = urljoin(url, resp.headers.get("Location", ""))
    raise FetchError(f"the server sent more than {MAX_REDIRECTS} redirects", "redirects")


def _get(s, url: str, headers, limits: Limits, deadline: Deadline, *, redirected: bool) -> requests.Response:
    deadline.check()
    timeout = (capped(limits.connect_timeout, deadline.left()), capped(limits.read_timeout, deadline.left()))
    try:
        return s.get(check_url(url), headers=headers, stream=True, allow_redirects=False, timeout=timeout)
    except BlockedAddress as exc:
        if redirected:  # say where the store sent us: the refused address may not be the store's own
            raise BlockedAddress(f"a redirect to {url[:200]} was refused: {exc}", exc.code) from None
        raise
    except requests.RequestException as exc:
        raise Unreachable(f"could not reach {urlsplit(url).hostname}: {_reason(exc)}", _failure(exc)) from None


def _causes(exc: BaseException):
    """The exception and what it wraps, outermost first (requests wraps urllib3 wraps the socket's OSError)."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__ or _reason_attr(cause)


def _reason_attr(exc: BaseException) -> BaseException | None:
    reason = getattr(exc, "reason", None)  # urllib3's MaxRetryError keeps the real error here
    if isinstance(reason, BaseException):
        return reason
    args = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
    return args[0] if args else None


def _failure(exc: BaseException) -> str:
    """Why no connection could be made, as a FetchError code."""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror) or "NameResolution" in type(cause).__name__:
            return "dns"
        if isinstance(cause, requests.exceptions.SSLError):
            return "tls"
        if isinstance(cause, requests.exceptions.Timeout | TimeoutError | socket.timeout):
            return "timeout"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_CODES:
            return _ERRNO_CODES[cause.errno]
    return "unreachable"


def _reason(exc: Exception) -> str:
    causes = list(_causes(exc))
    blocked = next((c for c in causes if isinstance(c, BlockedAddress)), None)
    if blocked is not None:
        raise blocked
    cause = causes[-1]
    text = str(cause) or type(cause).__name__
    return text[:200]


def fetch(
    url: str,
    *,
    allow_lan: bool,
    limits: Limits,
    etag: str = "",
    last_modified: str = "",
    dest: Path | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Download:
    """Download `url` (into `dest` when given, else memory) within the limits; raises NotModified, FetchError."""
    headers = {"If-None-Match": etag, "If-Modified-Since": last_modified}
    with Deadline(limits.deadline) as deadline, session(allow_lan=allow_lan, deadline=deadline) as s:
        try:
            with _open(s, url, {k: v for k, v in headers.items() if v}, limits, deadline) as resp:
                return _Receiver(resp, limits, deadline, on_progress).download(dest)
        except FetchError:
            deadline.check()  # whatever broke once the time was up, it broke because the time was up
            raise


class _Receiver:
    """Takes one response's body, counting real bytes against the size limit and the clock against the deadline."""

    def __init__(self, resp: requests.Response, limits: Limits, deadline: Deadline, on_progress) -> None:
        self.resp, self.limits, self.deadline, self.on_progress = resp, limits, deadline, on_progress
        self.declared = int(resp.headers.get("Content-Length") or 0) or None

    def download(self, dest: Path | None) -> Download:
        self._check_status()
        chunks: list[bytes] = []
        digest, size = self._to_file(dest) if dest else self._stream(chunks.append)
        headers = self.resp.headers
        return Download(
            url=self.resp.url,
            size=size,
            sha256=digest,
            content_type=headers.get("Content-Type", ""),
            etag=headers.get("ETag", ""),
            last_modified=headers.get("Last-Modified", ""),
            body=None if dest else b"".join(chunks),
            path=dest,
        )

    def _check_status(self) -> None:
        status = self.resp.status_code
        if status == 304:
            raise NotModified
        if status != 200:
            reason = f"the server answered {status} {self.resp.reason or ''}".strip()
            raise FetchError(reason, "server" if status >= 500 else "http")
        if self.declared and self.declared > self.limits.max_bytes:
            raise FetchError(
                f"the file is too large ({_mib(self.declared)}; the limit is {_mib(self.limits.max_bytes)})",
                "too_large",
            )

    def _to_file(self, dest: Path) -> tuple[str, int]:
        """Write to `dest` chunk by chunk (never whole in memory); a refused or broken download leaves no file."""
        if self.declared and self.declared > shutil.disk_usage(dest.parent).free:
            raise FetchError(f"there is not enough free disk space for the file ({_mib(self.declared)})", "disk")
        part = dest.with_name(dest.name + ".part")
        try:
            with part.open("xb") as out:
                result = self._stream(out.write)
            part.replace(dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return result

    def _stream(self, write) -> tuple[str, int]:
        """Hand the body to `write` in chunks; returns (sha256, size)."""
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in self.resp.iter_content(CHUNK):
                size += len(chunk)
                self._check(size)
                digest.update(chunk)
                write(chunk)
                if self.on_progress:
                    self.on_progress(size, self.declared)
        except requests.RequestException as exc:
            raise FetchError(f"the download broke off: {_reason(exc)}", "broken") from None
        except OSError as exc:
            raise FetchError(f"the download could not be saved: {exc.strerror or exc}", "disk") from None
        self.deadline.check()  # a body without a length "ends" when the deadline shuts the connection: not complete
        return digest.hexdigest(), size

    def _check(self, size: int) -> None:
        if size > self.limits.max_bytes:
            raise FetchError(f"the file is larger than the limit of {_mib(self.limits.max_bytes)}", "too_large")
        self.deadline.check()


def _mib(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB" if size >= 1024**2 else f"{size} bytes"
