"""The API schema documents every status an endpoint can answer, with its error body, not only its success.

One hook instead of an `extend_schema` per view: the errors come from shared layers (authentication, permissions,
throttling, parsers, the web server's body bound) and from what an area touches (the engine, the disk), so they
are described where those layers are known. A view that declares a status itself keeps its own description.
"""

ERROR = "Error"
VALIDATION = "ValidationError"
COMPONENTS = {
    ERROR: {
        "type": "object",
        "description": "What went wrong, in words a person can act on.",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION: {
        "type": "object",
        "description": "Field name (or `detail`/`non_field_errors`) -> what is wrong with it.",
        "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {}}, {"type": "object"}]},
    },
}

EVERY_OPERATION = {
    "400": (VALIDATION, "The request (query, path or body) is not valid; the body says what to change."),
    "401": (ERROR, "No valid credentials: log in, or send `Authorization: Bearer <token>`."),
    "403": (ERROR, "Not allowed: role, read-only token, a missing step-up or consent, or the object's own rules."),
    "404": (ERROR, "No such object, or not one you may see."),
    "429": (ERROR, "Too many requests, or too many bad credentials from this address; `Retry-After` says when."),
}
WITH_BODY = {
    "413": (ERROR, "The request body is larger than the server accepts."),
    "415": (ERROR, "The body's media type is not JSON, form or multipart."),
}
# Areas whose work reaches the container engine or the disk.
BY_AREA = {
    "/api/apps/": {
        "409": (ERROR, "The app is busy with another operation, or the name or a port is taken."),
        "503": (ERROR, "The container engine or the worker does not answer; retry when it is back."),
    },
    "/api/catalog/": {
        "409": (ERROR, "The name or a port is taken."),
        "503": (ERROR, "The container engine or the worker does not answer; retry when it is back."),
    },
    "/api/files/": {
        "409": (ERROR, "An entry of that name exists, or the file changed since it was read (ETag)."),
        "413": (ERROR, "The upload is larger than allowed."),
        "507": (ERROR, "Not enough free space on the disk."),
    },
    "/api/stores/": {"409": (ERROR, "A store with this address exists.")},
    "/api/storage/": {
        "409": (ERROR, "Refused for the disk's safety: a system disk, a mounted or busy filesystem, a pool member."),
        "422": (ERROR, "The host could not do it with this filesystem (it would not mount, or not as asked)."),
        "503": (ERROR, "A host tool (lsblk, smartctl, mount, mkfs…) failed; the body gives its words."),
    },
}
# Settings → System (system/api.py): a port taken, or the host refused the change (hostnamectl, timedatectl, systemctl).
BY_AREA["/api/system/settings/"] = {
    "409": (ERROR, "The port is in use on this host or published by an app."),
    "503": (ERROR, "The host refused the change; the body gives its words."),
}
BY_AREA["/api/system/restart/"] = {"503": (ERROR, "The host refused to restart; the body gives its words.")}
BY_AREA["/api/system/shutdown/"] = {"503": (ERROR, "The host refused to shut down; the body gives its words.")}
# Issue 17 and 18: the areas that reach Samba, rclone, NetworkManager and restic.
BY_AREA["/api/shares/"] = {
    "409": (ERROR, "A share of that name exists, it is being removed, or its folder cannot be shared now."),
    "503": (ERROR, "Samba is not set up on this host, or one of its tools failed; the body gives its words."),
}
BY_AREA["/api/remotes/"] = {
    "409": (ERROR, "The remote is busy, or its authorisation was given up or expired: start it again."),
    "422": (ERROR, "The server refused: it would not mount with these settings, or gave no token; its words follow."),
    "503": (ERROR, "rclone did not start or answer."),
}
BY_AREA["/api/network/"] = {
    "409": (ERROR, "Read-only here (no NetworkManager), not managed by it, or another change is waiting."),
    "503": (ERROR, "NetworkManager did not answer; the change still waits."),
}
BY_AREA["/api/backups/"] = {"503": (ERROR, "restic or the backup target failed; the body gives its words.")}
# Issue 19 §5: the VPN (the worker changes the interface, so no host tool answers through the API).
BY_AREA["/api/vpn/"] = {
    "409": (
        ERROR,
        "Devices would fall outside the new range, no public address is known, or a device was added at once.",
    ),
}
# tus (resumable uploads) answers with the protocol's own statuses; more specific prefixes come later and win.
BY_AREA["/api/files/uploads/"] = {
    **BY_AREA["/api/files/"],
    "409": (ERROR, "Upload-Offset is not where the upload stands: ask with HEAD and resume from there."),
    "412": (ERROR, "The request does not say `Tus-Resumable: 1.0.0`."),
    "423": (ERROR, "Another request is writing to this upload right now."),
    "460": (ERROR, "Upload-Checksum does not match the bytes sent; nothing of them was kept."),
}


def _response(component: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _errors_for(path: str, method: str, operation: dict) -> dict:
    errors = dict(EVERY_OPERATION)
    if "requestBody" in operation or method in ("post", "put", "patch"):
        errors.update(WITH_BODY)
    for prefix in sorted(BY_AREA, key=len):  # the most specific area last, so its descriptions win
        if path.startswith(prefix):
            errors.update(BY_AREA[prefix])
    return errors


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation lists the errors its layers can answer."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, (component, description) in _errors_for(path, method, operation).items():
                responses.setdefault(status, _response(component, description))
    return result
