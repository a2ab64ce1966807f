"""Samba and discovery on the host behind small functions (plain Python, no Django, like storage/host/).

Every program runs through storage/host/command.py's run(): argv lists, no shell, C locale, a time limit. Names and
paths that reach a configuration file were checked by the caller (shares/validation.py) and are checked again here
(`safe_value`): a value that could end a line, open a section or expand a macro never reaches a file.
"""
