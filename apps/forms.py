"""Forms of the apps pages: install from a compose document (pasted, uploaded or converted from `docker run`),
an app's settings per service (or the raw compose), and the admin's override of the machine's limits."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import user_is_admin

from .docker_run import DockerRunError, compose_from_run
from .services.common import InstallError
from .services.install import MAX_COMPOSE, compose_text
from .services.settings_edit import RESTART_POLICIES, ServiceEdit, env_from_text, lines_from_text

_CODE = {"spellcheck": "false", "class": "code"}
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def override_limits_field() -> forms.BooleanField:
    """The admin's explicit "allow more than this machine has" (the API's override_limits), audited when used."""
    return forms.BooleanField(
        label=_("Allow more than this machine has"),
        required=False,
        help_text=_("Memory, shared memory, CPUs or processes above what this machine has. The audit log records it."),
    )


def limits_offered(user, form: forms.Form, code: str = "") -> bool:
    """The override box shows to an admin once a request went over the machine's resources, and while it is ticked."""
    return user_is_admin(user) and (code == "limits" or bool(form.data.get("override_limits")))


WHERE_CHOICES = (
    ("local", _("This box")),
    ("any", _("Any machine of the swarm")),
    ("node", _("A machine:")),
    ("label", _("Machines with label:")),
)
WHERE_FIELDS = ("where", "where_node", "where_label")


def placement_fields_add(form: forms.Form) -> None:
    """The "Where" choice, only when this box manages a swarm (otherwise every app runs here, as always)."""
    from .services.placement import swarm_active, swarm_nodes

    if not swarm_active():
        return
    form.fields["where"] = forms.ChoiceField(
        label=pgettext_lazy("where an app runs", "Where"),
        choices=WHERE_CHOICES,
        initial="local",
        required=False,
        widget=forms.RadioSelect,
    )
    nodes = [(n.id, f"{n.hostname} ({n.role})") for n in swarm_nodes()]
    form.fields["where_node"] = forms.ChoiceField(label=_("Machine"), choices=nodes, required=False)
    form.fields["where_label"] = forms.CharField(
        label=pgettext_lazy("a node label", "Label"),
        required=False,
        max_length=129,
        widget=forms.TextInput(attrs={"placeholder": "disk=ssd", "spellcheck": "false"}),
    )


def placement_of(form: forms.Form) -> dict:
    """The placement the form asks for, in the shape apps.services.placement checks ({} = this box)."""
    where = form.cleaned_data.get("where") or "local"
    if where == "node":
        return {"where": "node", "node": form.cleaned_data.get("where_node", "")}
    if where == "label":
        return {"where": "label", "label": form.cleaned_data.get("where_label", "")}
    return {} if where == "local" else {"where": where}


class InstallForm(forms.Form):
    """The one page that installs from a compose document (pasted or uploaded) or `docker run` commands, with a
    name, variables and consent when it is needed; the install service does every real check."""

    compose = forms.CharField(
        label=_("Compose document"),
        required=False,
        max_length=MAX_COMPOSE,
        widget=forms.Textarea(attrs={"rows": 14, **_CODE}),
    )
    upload = forms.FileField(label=_("…or upload a compose file"), required=False)
    docker_run = forms.CharField(
        label=_("…or paste docker run commands"),
        required=False,
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 3, **_CODE, "placeholder": "docker run -d -p 8080:80 nginx"}),
        help_text=_("One app, one service per command; -p reads host port:container port."),
    )
    name = forms.CharField(
        label=_("App name"),
        max_length=63,
        required=False,
        help_text=_("Lowercase letters, digits, '-' and '_'. Leave empty to derive it."),
    )
    inputs = forms.CharField(
        label=_("Variables"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, **_CODE, "placeholder": "TZ=Europe/Berlin"}),
        help_text=_("One NAME=value per line; the compose document sees them as ${NAME}."),
    )
    consent = forms.BooleanField(label=_("I understand and allow this access"), required=False)
    override_limits = override_limits_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        placement_fields_add(self)

    def clean_inputs(self) -> dict[str, str]:
        result = {}
        for number, line in enumerate(self.cleaned_data["inputs"].splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LINE.match(line)
            if not match:
                raise forms.ValidationError(_("Line %(n)s is not NAME=value."), params={"n": number})
            result[match.group(1)] = match.group(2).strip()
        return result

    def clean(self):
        data = super().clean()
        sources = [
            bool(data.get("compose", "").strip()),
            bool(data.get("upload")),
            bool(data.get("docker_run", "").strip()),
        ]
        if sum(sources) != 1:
            raise forms.ValidationError(_("Give exactly one of: a compose document, a file, or docker run commands."))
        if data.get("upload"):
            data["compose"] = _uploaded(data["upload"])
        elif data.get("docker_run", "").strip():
            try:
                data["compose"] = compose_from_run(data["docker_run"])
            except DockerRunError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data

    def compose_text(self) -> str:
        """The compose document, whichever way it came."""
        return self.cleaned_data["compose"]


def _uploaded(upload) -> str:
    if upload.size > MAX_COMPOSE:
        raise forms.ValidationError(_("The file is too large (at most 256 KiB)."))
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


class SettingsForm(forms.Form):
    """Per service: env, ports, volumes, restart, CPU and memory; or (advanced) the whole compose document.

    Only what the person changed becomes an edit, so untouched long-syntax entries stay exactly as written.
    """

    raw = forms.CharField(
        label=_("Compose document (advanced)"),
        required=False,
        max_length=MAX_COMPOSE,
        widget=forms.Textarea(attrs={"rows": 18, **_CODE}),
    )
    consent = forms.BooleanField(label=_("I understand and allow this access"), required=False)
    override_limits = override_limits_field()

    def __init__(self, *args, services: dict, compose: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.services, self.compose = services, compose
        self.fields["raw"].initial = compose
        restart = [(p, p) for p in RESTART_POLICIES]
        for name, current in services.items():
            self.fields[f"{name}__env"] = forms.CharField(
                label=_("Environment"),
                required=False,
                initial=_env_text(current["env"]),
                widget=forms.Textarea(attrs={"rows": 5, **_CODE}),
                help_text=_("KEY=value per line; $$ is a literal $."),
            )
            self.fields[f"{name}__ports"] = forms.CharField(
                label=_("Ports (host port → container port)"),
                required=False,
                initial="\n".join(current["ports"]),
                widget=forms.Textarea(attrs={"rows": 2, **_CODE, "placeholder": "8080:80"}),
                help_text=_("One per line, host port:container port, e.g. 8080:80 (add /udp for UDP)."),
            )
            self.fields[f"{name}__volumes"] = forms.CharField(
                label=_("Volumes"),
                required=False,
                initial="\n".join(current["volumes"]),
                widget=forms.Textarea(attrs={"rows": 3, **_CODE}),
                help_text=_("source:/path/in/container[:ro] per line."),
            )
            choices = restart if current["restart"] in RESTART_POLICIES else [*restart, (current["restart"],) * 2]
            self.fields[f"{name}__restart"] = forms.ChoiceField(
                label=_("Restart policy"), choices=choices, initial=current["restart"]
            )
            self.fields[f"{name}__cpus"] = forms.CharField(
                label=_("CPU limit (cores)"), required=False, initial=current["cpus"]
            )
            self.fields[f"{name}__memory"] = forms.CharField(
                label=_("Memory limit (e.g. 512m)"), required=False, initial=current["memory"]
            )

    def service_fields(self):
        """(service, [bound fields]) for the template."""
        return [
            (name, [self[f"{name}__{key}"] for key in ("env", "ports", "volumes", "restart", "cpus", "memory")])
            for name in self.services
        ]

    def raw_compose(self) -> str | None:
        """The raw document when the person changed it (it then wins over the per-service fields)."""
        raw = compose_text(self.cleaned_data.get("raw", "")).strip()
        return raw if raw and raw != compose_text(self.compose).strip() else None

    def raw_changed(self) -> bool:
        """True once a posted compose document differs from the stored one (the page then shows it open)."""
        return hasattr(self, "cleaned_data") and self.raw_compose() is not None

    def edits(self) -> dict[str, ServiceEdit]:
        try:
            return {name: edit for name in self.services if (edit := self._edit(name)) is not None}
        except InstallError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def _edit(self, name: str) -> ServiceEdit | None:
        data, current, edit, changed = self.cleaned_data, self.services[name], ServiceEdit(), False
        text = lambda key: data.get(f"{name}__{key}", "").replace("\r\n", "\n").strip()  # noqa: E731
        if text("env") != _env_text(current["env"]).strip():
            edit.env, changed = env_from_text(text("env")), True
        for key in ("ports", "volumes"):
            if lines_from_text(text(key)) != current[key]:
                setattr(edit, key, lines_from_text(text(key)))
                changed = True
        for key in ("restart", "cpus", "memory"):
            if text(key) != current[key]:
                setattr(edit, key, text(key))
                changed = True
        return edit if changed else None


def _env_text(env: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in env.items())
