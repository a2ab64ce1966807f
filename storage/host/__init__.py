"""Host storage commands behind small typed functions (plain Python, no Django, like runtime/).

Every command is an argv list run with shell=False, `--` before any value, and device paths that callers took from
our own listing (block.list_devices), never from a client.
"""
