"""Django's makemessages, also extracting the messages stored for later translation (casaos_site/i18n.py)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=deferred",
        "--keyword=deferred_ngettext:1,2",
        "--keyword=deferred_within:2",
        "--keyword=worded",  # runtime's errors in our own words (runtime.errors.EngineError.worded)
    ]
