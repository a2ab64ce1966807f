"""This install's VAPID keys (made at first use) and the push-service allow-list a subscription must match."""

from fnmatch import fnmatch
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import PushKeys


def push_keys() -> PushKeys:
    """The install's key pair, generated once: two processes asking at the same moment keep one."""
    keys = PushKeys.objects.order_by("pk").first()
    if keys is not None:
        return keys
    private_pem, public_key = _generate()
    try:
        with transaction.atomic():
            PushKeys.objects.create(pk=1, private_pem=private_pem, public_key=public_key)
    except IntegrityError:
        pass
    return PushKeys.objects.get(pk=1)


def _generate() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid02
    from py_vapid.utils import b64urlencode

    vapid = Vapid02()
    vapid.generate_keys()
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return vapid.private_pem().decode(), b64urlencode(raw)


def push_endpoint_allowed(endpoint: str) -> bool:
    """The subscription's endpoint is a known push service over HTTPS: a browser's word cannot make us call
    an address on the home network (SECURITY.md lesson 11)."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.NOTIFY_PUSH_HTTP):
        return False
    host = (parts.hostname or "").lower()
    return any(fnmatch(host, pattern.lower()) for pattern in settings.NOTIFY_PUSH_HOSTS)
