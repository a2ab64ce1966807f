"""restic behind small typed functions (plain Python, no Django, like storage/host/).

Every command is an argv list run with shell=False. The repository location and its password never reach argv
(another user's `ps` would show them): the location goes in RESTIC_REPOSITORY, the password through
RESTIC_PASSWORD_FILE (a 0600 file removed when the command ends), cloud credentials in the child's environment.
"""
