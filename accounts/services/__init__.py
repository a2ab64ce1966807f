"""Account services: writes for setup, login, lockout, MFA, tokens, users, sessions and the audit log.

Other apps import `audit_record` from here; its signature is a contract.
"""

from .audit import audit_record

__all__ = ["audit_record"]
