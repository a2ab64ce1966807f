"""How a message leaves the box: SMTP, Apprise URLs and Web Push. One error type says whether a retry can help."""

import json
import logging
import smtplib
import ssl
from email.message import EmailMessage

from django.conf import settings

from .models import SmtpSettings

log = logging.getLogger(__name__)


class TransportError(Exception):
    """A message could not be sent; `permanent` when trying again cannot help (a bad address, a gone subscription)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message, self.permanent = message, permanent


def email_send(*, to: str, subject: str, body: str, smtp: SmtpSettings | None = None) -> None:
    """Send one plain-text mail through the configured server."""
    smtp = smtp or SmtpSettings.load()
    if not smtp.host or not smtp.sender:
        raise TransportError("no SMTP server is set up", permanent=True)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = smtp.sender, to, subject
    mail.set_content(body)
    try:
        with _smtp_connect(smtp) as client:
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise TransportError(f"the SMTP server refused the login: {exc.smtp_code}", permanent=True) from None
    except smtplib.SMTPRecipientsRefused:
        raise TransportError(f"the SMTP server refused the address {to}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"SMTP {smtp.host}:{smtp.port}: {exc or type(exc).__name__}") from None


def _smtp_connect(smtp: SmtpSettings) -> smtplib.SMTP:
    timeout = settings.NOTIFY_SEND_TIMEOUT
    if smtp.security == SmtpSettings.Security.TLS:
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    if smtp.security == SmtpSettings.Security.STARTTLS:
        client.starttls(context=ssl.create_default_context())
    return client


def apprise_valid(url: str) -> bool:
    """Apprise knows this URL's service and can read its parts."""
    import apprise

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def apprise_send(*, url: str, title: str, body: str, severity: str = "info") -> None:
    """Send through one Apprise URL (ntfy, Gotify, Telegram, Discord, Matrix, Slack, json:// web hooks...)."""
    import apprise

    kind = {"warning": apprise.NotifyType.WARNING, "critical": apprise.NotifyType.FAILURE}.get(severity)

    sender = apprise.Apprise()
    if not sender.add(url):
        raise TransportError("Apprise does not understand this URL", permanent=True)
    # Apprise reports why it failed only in its log: keep what it says for the channel's error line.
    with apprise.LogCapture(level=logging.WARNING) as captured:
        sent = sender.notify(title=title, body=body, notify_type=kind or apprise.NotifyType.INFO)
    if not sent:
        said = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
        raise TransportError(said[-1] if said else "the service did not accept the message")


def push_send(*, subscription: dict, payload: dict, private_pem: str, contact: str) -> None:
    """Send one Web Push message, encrypted for the browser's keys and signed with our VAPID key."""
    from py_vapid import Vapid02
    from pywebpush import WebPushException, webpush  # lazily: it pulls aiohttp, which a Pi should not hold idle

    try:
        webpush(
            subscription_info=subscription,
            data=json.dumps(payload),
            vapid_private_key=Vapid02.from_pem(private_pem.encode()),
            vapid_claims={"sub": contact},
            timeout=settings.NOTIFY_SEND_TIMEOUT,
            ttl=24 * 3600,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        # 404 and 410: the browser unsubscribed; retrying only annoys the push service.
        raise TransportError(f"the push service answered {status or exc}", permanent=status in (404, 410)) from None
    except OSError as exc:
        raise TransportError(f"the push service cannot be reached: {exc}") from None
