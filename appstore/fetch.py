"""HTTP downloads from store URLs without opening an SSRF door.

Only http(s); every hop of a redirect is followed by us, not by requests; the address a connection actually
reaches is checked after DNS (so a name that resolves to 127.0.0.1, or rebinds to it, is refused) unless the
admin allows LAN stores; sizes and times are bounded while streaming, never trusted from headers.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = "casaos-home-cloud-appstore/1"


class FetchError(Exception):
    """A download failed; the message is shown on the store, `code` says what kind of failure it was.

    Codes: dns, offline, refused, timeout, tls, unreachable (no connection); server (5xx), http (another
    status); too_large, deadline, broken, disk, blocked, url, other.
    """

    def __init__(self, message: str, code: str = "other") -> None:
        super().__init__(message)
        self.code = code


class NotModified(Exception):
    """The server says our copy is current (HTTP 304)."""


class Unreachable(FetchError):
    """No connection could be made (DNS, refused, timeout)."""


class BlockedAddress(FetchError):
    """The URL leads to loopback, link-local, private or otherwise internal addresses."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "blocked")


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
    """How much and how long one download may take."""

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


def address_allowed(address: str, *, allow_lan: bool) -> bool:
    """Public unicast addresses always; loopback/private/link-local only when LAN stores are allowed."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    if allow_lan:
        return True
    return ip.is_global


def check_url(url: str) -> str:
    """Refuse anything but http(s) URLs with a host and without credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'!r}", "url")
    if not parts.hostname:
        raise FetchError("the URL has no host", "url")
    if parts.username or parts.password:
        raise FetchError("URLs with a user name or password are not allowed", "url")
    return url


def _guarded(base: type, allow_lan: bool) -> type:
    class Guarded(base):  # type: ignore[misc, valid-type]
        def _new_conn(self):
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            if not address_allowed(peer, allow_lan=allow_lan):
                sock.close()
                raise BlockedAddress(f"{self.host} leads to {peer}, a local or private address (not allowed)")
            return sock

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    """Pools whose connections check the peer address right after connecting."""

    def __init__(self, allow_lan: bool):
        self.allow_lan = allow_lan
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_pool = type("Pool", (HTTPConnectionPool,), {"ConnectionCls": _guarded(HTTPConnection, self.allow_lan)})
        https_pool = type("Pool", (HTTPSConnectionPool,), {"ConnectionCls": _guarded(HTTPSConnection, self.allow_lan)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def session(*, allow_lan: bool) -> requests.Session:
    """A session that never uses proxies from the environment and guards every connection."""
    s = requests.Session()
    s.trust_env = False
    s.headers["User-Agent"] = USER_AGENT
    adapter = _GuardedAdapter(allow_lan)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def _open(s: requests.Session, url: str, headers: dict[str, str], limits: Limits) -> requests.Response:
    """GET following at most MAX_REDIRECTS redirects ourselves, each hop checked again."""
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(url)
        try:
            resp = s.get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                timeout=(limits.connect_timeout, limits.read_timeout),
            )
        except BlockedAddress:
            raise
        except requests.RequestException as exc:
            raise Unreachable(f"could not reach {urlsplit(url).hostname}: {_reason(exc)}", _failure(exc)) from None
        if resp.is_redirect:
            resp.close()
            url = urljoin(url, resp.headers.get("Location", ""))
            continue
        return resp
    raise FetchError("too many redirects", "http")


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
    """Download `url` (into `dest` when given, else memory); raises NotModified, FetchError."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with session(allow_lan=allow_lan) as s, _open(s, url, headers, limits) as resp:
        if resp.status_code == 304:
            raise NotModified
        if resp.status_code != 200:
            raise FetchError(
                f"the server answered {resp.status_code} {resp.reason or ''}".strip(),
                "server" if resp.status_code >= 500 else "http",
            )
        declared = int(resp.headers.get("Content-Length") or 0) or None
        if declared and declared > limits.max_bytes:
            raise FetchError(
                f"the file is too large ({_mib(declared)}; the limit is {_mib(limits.max_bytes)})", "too_large"
            )
        if dest is None:
            chunks: list[bytes] = []
            digest, size = _stream(resp, chunks.append, limits, declared, on_progress)
        else:
            digest, size = _stream_to_file(resp, dest, limits, declared, on_progress)
        return Download(
            url=resp.url,
            size=size,
            sha256=digest,
            content_type=resp.headers.get("Content-Type", ""),
            etag=resp.headers.get("ETag", ""),
            last_modified=resp.headers.get("Last-Modified", ""),
            body=None if dest else b"".join(chunks),
            path=dest,
        )


def _stream_to_file(
    resp: requests.Response, dest: Path, limits: Limits, declared: int | None, on_progress
) -> tuple[str, int]:
    """Write the body to `dest` chunk by chunk (never whole in memory); a refused or broken download leaves no file."""
    if declared and declared > shutil.disk_usage(dest.parent).free:
        raise FetchError(f"there is not enough free disk space for the file ({_mib(declared)})", "disk")
    part = dest.with_name(dest.name + ".part")
    try:
        with part.open("xb") as out:
            result = _stream(resp, out.write, limits, declared, on_progress)
        part.replace(dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return result


def _stream(resp: requests.Response, write, limits: Limits, declared: int | None, on_progress) -> tuple[str, int]:
    """Hand the body to `write` in chunks, counting real bytes and time; returns (sha256, size)."""
    started = time.monotonic()
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in resp.iter_content(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchError(f"the file is larger than the limit of {_mib(limits.max_bytes)}", "too_large")
            if time.monotonic() - started > limits.deadline:
                raise FetchError(f"the download took longer than {limits.deadline:.0f} seconds", "deadline")
            digest.update(chunk)
            write(chunk)
            if on_progress:
                on_progress(size, declared)
    except requests.RequestException as exc:
        raise FetchError(f"the download broke off: {_reason(exc)}", "broken") from None
    except OSError as exc:
        raise FetchError(f"the download could not be saved: {exc.strerror or exc}", "disk") from None
    return digest.hexdigest(), size


def _mib(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB" if size >= 1024**2 else f"{size} bytes"
