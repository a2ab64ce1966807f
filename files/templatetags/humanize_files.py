"""Template filters of the file manager."""

from urllib.parse import urlencode

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


# File-type icons (symbols of static/img/file-icons.svg): by MIME type first, then by the name's suffix for the
# types the MIME table calls text/plain or application/octet-stream.
ICON_MIME_PREFIXES = (("image/", "image"), ("video/", "video"), ("audio/", "audio"), ("font/", "file"))
ICON_MIMES = {
    "application/pdf": "pdf",
    "application/zip": "archive",
    "application/gzip": "archive",
    "application/x-tar": "archive",
    "application/x-7z-compressed": "archive",
    "application/x-rar-compressed": "archive",
    "application/vnd.rar": "archive",
    "application/x-bzip2": "archive",
    "application/x-xz": "archive",
    "application/json": "code",
    "application/xml": "code",
    "application/javascript": "code",
    "text/javascript": "code",
    "application/msword": "document",
    "application/rtf": "document",
    "application/epub+zip": "document",
}
ICON_SUFFIXES = {
    "code": (
        ".py",
        ".js",
        ".ts",
        ".sh",
        ".bash",
        ".yml",
        ".yaml",
        ".json",
        ".toml",
        ".ini",
        ".conf",
        ".cfg",
        ".env",
        ".xml",
        ".html",
        ".css",
        ".go",
        ".rs",
        ".c",
        ".h",
        ".cpp",
        ".java",
        ".php",
        ".rb",
        ".sql",
        ".lua",
    ),
    "text": (".txt", ".md", ".log", ".csv", ".nfo", ".srt"),
    "archive": (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"),
    "document": (".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".odp", ".epub"),
}


@register.filter
def file_icon(entry) -> str:
    """The icon of a listing entry: folder, image, video, audio, pdf, archive, document, code, text or file."""
    if entry.is_dir:
        return "folder"
    mime = (entry.mime or "").split(";")[0]
    by_prefix = next((icon for prefix, icon in ICON_MIME_PREFIXES if mime.startswith(prefix)), None)
    if by_prefix or mime in ICON_MIMES:
        return by_prefix or ICON_MIMES[mime]
    name = entry.name.lower()
    by_suffix = next((icon for icon, suffixes in ICON_SUFFIXES.items() if name.endswith(suffixes)), None)
    if by_suffix:
        return by_suffix
    officedoc = mime.startswith(("application/vnd.openxmlformats", "application/vnd.oasis.opendocument"))
    return "document" if officedoc else "text" if mime.startswith("text/") else "file"


LISTING_DEFAULTS = {"view": "list", "sort": "name", "reverse": False, "hidden": False, "page": 1, "q": ""}


@register.simple_tag(takes_context=True)
def files_query(context, **changes) -> str:
    """The query string of the folder page as it is shown now, with `changes` ("?path=a&view=grid"); defaults left out.

    Every link of the listing goes through it, so the address always says which folder, view and order is shown:
    a reload, a shared link and Back all come to the same listing.
    """
    state = {"path": context.get("path", ""), "view": context.get("mode", "list"), "sort": context.get("sort", "name")}
    state.update(reverse=bool(context.get("reverse")), hidden=bool(context.get("hidden")), page=1, q="")
    state.update(changes)
    state.update(reverse=bool(state["reverse"]), hidden=bool(state["hidden"]))  # a template passes "" or "1" too
    kept = {"path": state["path"]}
    kept.update({key: state[key] for key, default in LISTING_DEFAULTS.items() if state[key] not in (default, "", None)})
    kept.update({key: 1 for key in ("reverse", "hidden") if key in kept})
    return "?" + urlencode(kept, safe="/")
