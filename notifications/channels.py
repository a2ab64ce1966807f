"""Delivery channels: a person's email, Apprise URLs and browsers (Web Push); the outbox that sends to them; SMTP."""

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from casaos_site.i18n import deferred, shown

from .models import Channel, Delivery, SmtpSettings
from .push import push_endpoint_allowed, push_keys
from .rules import RULES
from .services import delivery_queue
from .transports import TransportError, apprise_send, apprise_valid, email_send, push_send

log = logging.getLogger(__name__)
ERROR_CHARS = 500  # Channel.last_error's and Delivery.error's column
S = Delivery.Status


class ChannelError(ValueError):
    """A channel that cannot be made as asked (a 400 with the reason, in the caller's words)."""


# ---------------------------------------------------------------------------- a person's channels
def channel_inapp(*, user: User) -> Channel:
    """The person's bell, as a channel row (made on first use) so its rules are chosen like the others'."""
    return Channel.objects.get_or_create(user=user, kind=Channel.Kind.INAPP, defaults={"name": _("This site")})[0]


def channel_create(
    *, user: User, kind: str, name: str = "", address: str = "", url: str = "", subscription=None, rules: list[str] = ()
) -> Channel:
    """Add a channel for `user` after checking what it points at; Apprise URLs are for admins only, since they
    can name any address the box reaches."""
    if kind == Channel.Kind.APPRISE and not user.is_admin:
        raise PermissionDenied(_("Only admins may add Apprise URLs."))
    if kind == Channel.Kind.EMAIL:
        address = _address_checked(user, address)
    secret = _secret(kind, address=address, url=url, subscription=subscription)
    rules = _rules_checked(rules)
    if kind == Channel.Kind.INAPP:
        channel = channel_inapp(user=user)
        return channel_update(channel=channel, rules=rules)
    return Channel.objects.create(user=user, kind=kind, name=name[:100], address=address, secret=secret, rules=rules)


def _address_checked(user: User, address: str) -> str:
    """A valid address; a member's own only: the admin's SMTP server must not mail strangers on a member's say."""
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ChannelError(_("This is not an email address.")) from None
    if not user.is_admin and address.casefold() != (user.email or "").strip().casefold():
        raise PermissionDenied(_("Members may send mail only to their own address (set it under Account)."))
    return address


def _secret(kind: str, *, address: str, url: str, subscription) -> str | None:
    if kind == Channel.Kind.EMAIL and not address:
        raise ChannelError(_("An email channel needs an address."))
    if kind == Channel.Kind.APPRISE:
        if not url or not apprise_valid(url):
            raise ChannelError(_("Apprise does not know this URL: see its list of services."))
        return url
    if kind == Channel.Kind.WEBPUSH:
        return json.dumps(_subscription_checked(subscription))
    return None


def _subscription_checked(subscription) -> dict:
    if not isinstance(subscription, dict) or not isinstance(subscription.get("keys"), dict):
        raise ChannelError(_("A Web Push channel needs the browser's subscription."))
    endpoint, keys = str(subscription.get("endpoint", "")), subscription["keys"]
    if not push_endpoint_allowed(endpoint):
        raise ChannelError(_("This push service is not on the allowed list (NOTIFY_PUSH_HOSTS)."))
    if not all(isinstance(keys.get(k), str) and keys[k] for k in ("p256dh", "auth")):
        raise ChannelError(_("The subscription lacks its keys."))
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


def _rules_checked(rules) -> list[str]:
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise ChannelError(_("Unknown rules: %(rules)s") % {"rules": ", ".join(unknown)})
    return sorted(set(rules))


def channel_update(*, channel: Channel, rules=None, enabled: bool | None = None) -> Channel:
    """Choose the rules a channel carries (empty: every rule), or turn it off and on."""
    if rules is not None:
        channel.rules = _rules_checked(rules)
    if enabled is not None:
        channel.enabled = enabled
    channel.save(update_fields=["rules", "enabled"])
    return channel


def channel_delete(*, channel: Channel) -> None:
    channel.delete()


def channel_test(*, channel: Channel) -> Delivery:
    """Queue a test message through this one channel (the page then shows whether it went)."""
    message = deferred(RULES["notifications.test"].message)
    return delivery_queue(channel=channel, kind="notifications.test", severity="info", message=message)


# ---------------------------------------------------------------------------- the outbox
def delivery_send(*, delivery_id: int) -> int | None:
    """Send one delivery; returns the seconds to wait before trying again, or None when it is settled."""
    delivery = Delivery.objects.select_related("channel__user").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (S.SENT, S.FAILED):
        return None
    delivery.attempts += 1
    try:
        _send(delivery)
    except TransportError as exc:
        return _failed(delivery, exc.message, permanent=exc.permanent)
    except Exception as exc:  # a library's own bug must fail this delivery only, never the event's others
        log.exception("delivery %s through %s failed", delivery.pk, delivery.channel.kind)
        return _failed(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
    _sent(delivery)
    return None


def _send(delivery: Delivery) -> None:
    channel = delivery.channel
    with translation.override(channel.user.language or settings.LANGUAGE_CODE):
        title, body = str(RULES[delivery.kind].label), shown(delivery.message)
    # A path alone is no use in a mail or a chat app: links go out only when the site's address is known.
    link = settings.NOTIFY_SITE_URL + delivery.link if delivery.link and settings.NOTIFY_SITE_URL else ""
    if channel.kind == Channel.Kind.EMAIL:
        email_send(to=channel.address, subject=f"CasaOS: {title}", body=f"{body}\n\n{link}".strip())
    elif channel.kind == Channel.Kind.APPRISE:
        apprise_send(url=channel.secret, title=title, body=f"{body}\n{link}".strip(), severity=delivery.severity)
    elif channel.kind == Channel.Kind.WEBPUSH:
        payload = {"title": title, "body": body, "link": delivery.link or "/notifications/", "kind": delivery.kind}
        keys = push_keys()
        push_send(
            subscription=json.loads(channel.secret),
            payload=payload,
            private_pem=keys.private_pem,
            contact=settings.NOTIFY_PUSH_CONTACT,
        )


def _sent(delivery: Delivery) -> None:
    now = timezone.now()
    delivery.status, delivery.sent_at, delivery.error = S.SENT, now, ""
    delivery.save(update_fields=["status", "sent_at", "error", "attempts"])
    Channel.objects.filter(pk=delivery.channel_id).update(last_ok_at=now)


def _failed(delivery: Delivery, error: str, *, permanent: bool) -> int | None:
    """Record the failure on the delivery and its channel (the settings page shows it); the backoff doubles."""
    final = permanent or delivery.attempts >= settings.NOTIFY_RETRIES
    delivery.status, delivery.error = (S.FAILED if final else S.RETRYING), error[:ERROR_CHARS]
    delivery.save(update_fields=["status", "error", "attempts"])
    Channel.objects.filter(pk=delivery.channel_id).update(last_error=error[:ERROR_CHARS], last_error_at=timezone.now())
    log.warning("delivery %s (%s) failed, attempt %s: %s", delivery.pk, delivery.channel.kind, delivery.attempts, error)
    return None if final else settings.NOTIFY_RETRY_SECONDS * 2 ** (delivery.attempts - 1)


# ---------------------------------------------------------------------------- SMTP (admins)
SMTP_FIELDS = ("host", "port", "security", "username", "sender")


def smtp_update(*, actor: User, values: dict, request=None) -> SmtpSettings:
    """Save the SMTP server; a password left out keeps the stored one, an empty one removes it."""
    with transaction.atomic():
        smtp = SmtpSettings.objects.select_for_update().get(pk=SmtpSettings.load().pk)
        for field in SMTP_FIELDS:
            if field in values:
                setattr(smtp, field, values[field])
        if "password" in values:
            smtp.password = values["password"] or None
        smtp.save()
    details = {field: getattr(smtp, field) for field in SMTP_FIELDS}
    audit_record(actor=actor, action="notifications.smtp", request=request, target=smtp.host, details=details)
    return smtp


def smtp_test(*, to: str) -> str | None:
    """Send a test mail now with the saved settings; None when the server took it, else why not."""
    body = shown(deferred(RULES["notifications.test"].message))
    try:
        email_send(to=to, subject=f"CasaOS: {RULES['notifications.test'].label}", body=body)
    except TransportError as exc:
        return exc.message
    return None
