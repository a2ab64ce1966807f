"""Google Drive, Dropbox and OneDrive through rclone's own authorisation flow, from a browser that is not on the box.

1. `authorize_start`: `rclone authorize <kind>` waits on the box's loopback (port 53682); we ask its local link where it
   redirects, and show the admin that provider sign-in address.
2. The admin signs in at the provider in their own browser; the provider sends that browser to
   http://localhost:53682/?code=…&state=…, which does not load there (it is the box's loopback, not theirs).
3. `authorize_finish`: the admin pastes that address (or a token from `rclone authorize` run elsewhere); we take only
   its code and state and hand them to the waiting rclone on our own loopback URL. rclone trades the code for a token
   at the provider and prints it; we keep it encrypted with the remote's other secrets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred

from .backends import RemoteRefused, backend
from .host import rclone
from .models import Remote
from .services import _set_state, config_dir, secrets_of

WAIT_LINK = 15  # seconds rclone gets to print its link
WAIT_TOKEN = 30  # seconds for the token after the code was handed over
STATE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
CODE = re.compile(r"^[A-Za-z0-9_\-./~+=%:]{1,2048}$")
_ENV_OPTIONS = {"client_id": "CLIENT_ID", "auth_url": "AUTH_URL", "token_url": "TOKEN_URL"}


def _files(remote: Remote) -> dict[str, Path]:
    base = config_dir()
    return {name: base / f"{remote.pk}.auth.{name}" for name in ("out", "err", "pid")}


def _env(remote: Remote) -> dict[str, str]:
    """The backend's client settings as rclone reads them from its environment (RCLONE_DRIVE_CLIENT_ID, ...)."""
    prefix = f"RCLONE_{remote.kind.upper()}_"
    env = {prefix + key: remote.options[name] for name, key in _ENV_OPTIONS.items() if remote.options.get(name)}
    secret = secrets_of(remote).get("client_secret")
    if secret:
        env[prefix + "CLIENT_SECRET"] = secret
    return env


def _check_oauth(remote: Remote) -> None:
    if not backend(remote.kind).oauth:
        raise RemoteRefused(deferred("Only Google Drive, Dropbox and OneDrive are authorised this way."))


def _stop_previous(remote: Remote) -> None:
    pid_file = _files(remote)["pid"]
    if pid_file.exists():
        rclone.stop(int(pid_file.read_text() or 0))
    for path in _files(remote).values():
        path.unlink(missing_ok=True)


def _stop_all() -> None:
    """rclone listens on one fixed port: an authorisation of another remote still waiting gives way."""
    for pid_file in config_dir().glob("*.auth.pid"):
        rclone.stop(int(pid_file.read_text() or 0))
        pid_file.unlink(missing_ok=True)


def authorize_start(*, user, remote: Remote, request=None) -> str:
    """Start rclone's flow and return the provider's sign-in address for the admin to open."""
    _check_oauth(remote)
    _stop_previous(remote)
    _stop_all()
    files = _files(remote)
    rclone.write_private(files["out"], "")
    pid = rclone.authorize_start(remote.kind, env=_env(remote), out=files["out"], err=files["err"],
                                 rclone=settings.REMOTES_RCLONE)  # fmt: skip
    rclone.write_private(files["pid"], str(pid))
    link = rclone.wait_text(files["err"], rclone.AUTH_LINK, WAIT_LINK)
    provider = rclone.redirect_of(link.group(0)) if link else ""
    if not provider:
        _stop_previous(remote)
        raise RemoteRefused(deferred("rclone did not start the authorisation."), code="authorize", status=503)
    _set_state(remote, Remote.State.AUTHORIZING, deferred("Waiting for the sign-in at the provider."))
    audit_record(actor=user, action="remotes.authorize_start", request=request, target=remote.name)
    return provider


def _code_and_state(answer: str) -> tuple[str, str]:
    """The code and state of the address the provider sent the browser to (only those: we never open that URL)."""
    parts = urlsplit(answer.strip())
    query = parse_qs(parts.query)
    code, state = (query.get("code") or [""])[0], (query.get("state") or [""])[0]
    if parts.hostname not in ("localhost", "127.0.0.1") or not CODE.match(code) or not STATE.match(state):
        raise RemoteRefused(deferred("Paste the whole address your browser ended on (http://localhost:53682/?code=…)."))
    return code, state


def _token_of(answer: str) -> str | None:
    """A token pasted as rclone prints it (`rclone authorize` run on a computer with a browser), else None."""
    text = answer.strip()
    found = rclone.TOKEN.search(text)
    text = found.group(1) if found else text
    if not text.startswith("{"):
        return None
    try:
        token = json.loads(text)
    except ValueError:
        raise RemoteRefused(deferred("This token is not the JSON rclone prints.")) from None
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
        raise RemoteRefused(deferred("This token has no access_token."))
    return json.dumps(token, separators=(",", ":"))


def _token_from_rclone(remote: Remote, answer: str) -> str:
    code, state = _code_and_state(answer)
    files = _files(remote)
    if not files["pid"].exists():
        raise RemoteRefused(deferred("Start the authorisation again: it was given up or has expired."), status=409)
    try:
        rclone.deliver_code(code, state)
    except OSError as exc:
        raise RemoteRefused(deferred("rclone is no longer waiting: start again (%(error)s).", error=str(exc)),
                            status=409) from exc  # fmt: skip
    found = rclone.wait_text(files["out"], rclone.TOKEN, WAIT_TOKEN)
    if not found:
        raise RemoteRefused(deferred("The provider gave no token for this code."), code="authorize", status=422)
    return _token_of(found.group(0))


def authorize_finish(*, user, remote: Remote, answer: str, request=None) -> Remote:
    """Keep the token the pasted address (or pasted token) yields; the drive can be mounted from then on."""
    _check_oauth(remote)
    token = _token_of(answer) or _token_from_rclone(remote, answer)
    _stop_previous(remote)
    remote.secrets = json.dumps({**secrets_of(remote), "token": token})
    remote.save(update_fields=["secrets"])
    _set_state(remote, Remote.State.UNMOUNTED, deferred("Authorised: mount it to use it."))
    audit_record(actor=user, action="remotes.authorize", request=request, target=remote.name)
    return remote
