"""What every apps endpoint answers when it refuses or accepts: the status by the refusal's code, the body with the
reason (policy refusals list their findings), and 202 with the operation."""

from rest_framework import status
from rest_framework.response import Response

from apps.selectors import app_state, app_state_shown
from apps.services.common import InstallError, PolicyError

# A refusal's HTTP status by its code; anything else is the client's to fix (400).
REFUSAL_STATUS = {"busy": 409, "stepup": 403, "forbidden": 403, "engine": 503}


def refusal_status(exc) -> int:
    """409 busy, 403 step-up or forbidden, 503 when the container engine does not answer (not the client's fault),
    else 400."""
    if getattr(exc, "stepup", False):
        return status.HTTP_403_FORBIDDEN
    return REFUSAL_STATUS.get(getattr(exc, "code", None), status.HTTP_400_BAD_REQUEST)


def refusal_body(exc, detail: str = "") -> dict:
    """The reason and its code; a policy refusal adds its plain-words `flags`, the `findings` and `stepup`; a YAML
    error adds where it is: `line`, `column` and `source_line`."""
    body = {"detail": detail or exc.messages[0], "code": getattr(exc, "code", None) or "install"}
    body.update(getattr(exc, "position", None) or {})
    if isinstance(exc, PolicyError):
        body.update(flags=exc.flags, findings=[f.as_dict() for f in exc.findings], stepup=getattr(exc, "stepup", False))
    return body


def refused(exc: InstallError) -> Response:
    """The refusal with its reason, its status by its code (api.refusal_status); policy refusals list findings."""
    return Response(refusal_body(exc, " ".join(exc.messages)), status=refusal_status(exc))


def accepted(event) -> Response:
    return Response(
        {"event": event.pk, "operation": event.operation, "app": event.installation_id}, status=status.HTTP_202_ACCEPTED
    )


def app_answer(inst) -> dict:
    """The app's state as the API answers it: its stored messages in the caller's language."""
    return app_state_shown(app_state(inst))
