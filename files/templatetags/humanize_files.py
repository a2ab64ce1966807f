"""Template filters of the file manager."""

from django import template

from casaos_site.templatetags.moment import when

register = template.Library()


@register.filter(is_safe=True)
def epoch(value: float) -> str:
    """A file time (seconds since the epoch) as the site shows every time (a <time> element)."""
    return when(value)


@register.filter
def parent(view_path: str) -> str:
    """The folder a view path lies in ("a/b/c.txt" → "a/b")."""
    return str(view_path).rpartition("/")[0]


@register.filter
def octal(filemode: str) -> str:
    """A mode as `ls -l` shows it ("drwxr-x---") as chmod takes it ("750"; setuid/setgid/sticky lead: "4755")."""
    if len(filemode or "") != 10:
        return ""
    special, digits = 0, ""
    for flag, bits in ((4, filemode[1:4]), (2, filemode[4:7]), (1, filemode[7:10])):
        digits += str((bits[0] == "r") * 4 + (bits[1] == "w") * 2 + (bits[2] in "xst"))
        special |= flag if bits[2] in "sStT" else 0
    return f"{special}{digits}" if special else digits
