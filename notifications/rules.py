"""The built-in alert rules: what each event says, to whom, and its defaults (threshold, cool-down).

Rule keys are the event names other parts publish or pass to notify(). The messages are English message ids,
stored with their parameters and translated when read (casaos_site/i18n.py), so each person reads their own language.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

ADMINS = "admin"


@dataclass(frozen=True)
class RuleSpec:
    """One built-in rule: its label, message, severity, default threshold and cool-down, and its audience."""

    key: str
    label: object
    message: str
    severity: str = "warning"
    threshold: int | None = None
    threshold_label: object = ""
    cooldown_minutes: int = 60


SPECS = [
    RuleSpec(
        "storage.space.low",
        _("A disk is almost full"),
        gettext_noop("%(name)s is %(percent)s %% full."),
        threshold=90,
        threshold_label=_("percent used"),
        cooldown_minutes=6 * 60,
    ),
    RuleSpec(
        "storage.health.worse",
        _("A disk's health got worse"),
        gettext_noop("The disk %(disk)s reports worse health: %(reasons)s."),
        severity="critical",
        cooldown_minutes=24 * 60,
    ),
    RuleSpec("apps.stopped", _("An app stopped unexpectedly"), gettext_noop("%(app)s stopped unexpectedly.")),
    RuleSpec("apps.unhealthy", _("An app is unhealthy"), gettext_noop("%(app)s is unhealthy: %(detail)s")),
    RuleSpec(
        "apps.restart_loop",
        _("An app keeps restarting"),
        gettext_noop("%(app)s kept restarting and was halted: %(detail)s"),
        severity="critical",
    ),
    RuleSpec(
        "apps.update_available",
        _("An app update is available"),
        gettext_noop("An update is available for %(app)s."),
        severity="info",
        cooldown_minutes=7 * 24 * 60,
    ),
    RuleSpec(
        "backups.failed",
        _("A backup failed"),
        gettext_noop("The backup %(name)s failed: %(error)s"),
        severity="critical",
    ),
    RuleSpec(
        "remotes.sync_failed",
        _("A cloud sync failed"),
        gettext_noop("The sync %(job)s failed: %(error)s"),
        cooldown_minutes=60,
    ),
    RuleSpec(
        "accounts.login_failures",
        _("Many failed logins"),
        gettext_noop("%(count)s failed logins within 15 minutes, the last one from %(address)s."),
        threshold=10,
        threshold_label=_("failed logins within 15 minutes"),
        cooldown_minutes=60,
    ),
    RuleSpec(
        "accounts.lockout",
        _("A login was locked"),
        gettext_noop("Logins for %(target)s are locked after repeated failures."),
        cooldown_minutes=30,
    ),
    RuleSpec(
        "accounts.admin_added",
        _("A new admin"),
        gettext_noop("%(user)s is now an admin."),
        severity="critical",
        cooldown_minutes=0,
    ),
    RuleSpec(
        "accounts.mfa_removed",
        _("Two-factor login removed"),
        gettext_noop("Two-factor login was removed from %(user)s."),
        cooldown_minutes=0,
    ),
    RuleSpec(
        "accounts.token_created",
        _("An API token was created"),
        gettext_noop("%(user)s created the API token %(token)s (%(scope)s)."),
        severity="info",
        cooldown_minutes=0,
    ),
    RuleSpec(
        "system.unclean_shutdown",
        _("Back after an unclean shutdown"),
        gettext_noop("The box is back after an unclean shutdown (a power cut or a crash): check your disks and apps."),
        cooldown_minutes=0,
    ),
    RuleSpec(
        "notifications.test",
        _("Test message"),
        gettext_noop("This is a test message from your home cloud."),
        severity="info",
        cooldown_minutes=0,
    ),
]
RULES = {spec.key: spec for spec in SPECS}
# A test message is sent by a person to one channel, never by the rules.
EDITABLE = [spec for spec in SPECS if spec.key != "notifications.test"]
SEVERITIES = ("info", "warning", "critical")
