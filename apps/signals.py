"""Signals other areas listen to, so apps/ never imports them: the firewall re-reads apps' published ports."""

from django.dispatch import Signal

# Sent when an operation on an app (install, retry, settings change, update, start, stop...) has ended, whatever
# its outcome: its published ports are settled. kwargs: installation_id, operation, outcome.
app_operation_ended = Signal()
