"""The tus 1.0.0 resumable upload protocol: constants and header parsing (core, creation, termination, checksum).

No storage here: files/services/uploads.py keeps the bytes, the views only translate HTTP to those calls.
Spec: https://tus.io/protocols/resumable-upload
"""

import base64
import binascii
import hashlib

from django.conf import settings
from django.utils.translation import gettext as _

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # tus checksum extension status
EXPOSED = (
    "Location, Upload-Offset, Upload-Length, Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, "
    "Tus-Checksum-Algorithm, Upload-Metadata"
)


class TusError(Exception):
    """A request the protocol refuses; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def base_headers() -> dict[str, str]:
    """Headers on every tus response."""
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store", "Access-Control-Expose-Headers": EXPOSED}


def discovery_headers() -> dict[str, str]:
    """OPTIONS: what this server supports."""
    return {
        **base_headers(),
        "Tus-Version": VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(settings.FILES_UPLOAD_MAX_SIZE),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


def check_version(headers) -> None:
    if headers.get("Tus-Resumable") != VERSION:
        raise TusError(412, _("Tus-Resumable 1.0.0 is required."))


def parse_int(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise TusError(400, _("%(name)s must be a non-negative whole number.") % {"name": name})
    return int(value)


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64value" pairs; values are decoded as UTF-8."""
    result: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, encoded = pair.partition(" ")
        try:
            result[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, _("Upload-Metadata value of %(key)r is not base64 UTF-8.") % {"key": key}) from None
    return result


def parse_checksum(header: str | None):
    """Upload-Checksum: "<algorithm> <base64 digest>" → (hasher, expected digest), or None without the header."""
    if not header:
        return None
    algorithm, _sep, encoded = header.strip().partition(" ")
    factory = CHECKSUM_ALGORITHMS.get(algorithm.lower())
    if factory is None:
        raise TusError(400, _("Unsupported checksum algorithm %(algorithm)r.") % {"algorithm": algorithm})
    try:
        return factory(), base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise TusError(400, _("Upload-Checksum digest is not base64.")) from None
