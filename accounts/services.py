"""Account services."""

import logging

log = logging.getLogger("casaos.audit")


def audit_record(*, actor=None, action: str, request=None, target: str = "", details: dict | None = None) -> None:
    """Record a security-relevant event (login, install, storage action...). Never pass secrets in details."""
    # Placeholder until the audit model lands with the accounts issue; the signature is the contract.
    log.info("audit action=%s actor=%s target=%s details=%s", action, getattr(actor, "pk", None), target, details)
