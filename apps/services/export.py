"""Export an app as one compose file that `docker compose up` (and the older `docker-compose` 1.x) accepts as it is.

The file has no top-level `name`: Compose 1.x rejects the key (tests/apps/test_export_compose.py runs the real
CLI). The project name goes in the header comment, for `-p`.
"""

from typing import Any

from django.utils.translation import gettext as _

from runtime.compose import interpolate, load_yaml

from ..models import Installation
from .settings_edit import compose_dump


def app_export(*, installation: Installation) -> str:
    """The stored compose with our variables written in (a literal `$` escaped again as `$$`); an app on the swarm
    keeps where it ran as `x-casaos-placement` (Compose ignores `x-` keys; docs/multi-node.md)."""
    tree = _render(load_yaml(installation.compose), installation.variables)
    if installation.placement:
        tree["x-casaos-placement"] = dict(installation.placement)
    start = f"docker compose -p {installation.name} up -d"
    header = _("%(name)s, exported from CasaOS. Start it with: %(command)s") % {
        "name": installation.name,
        "command": start,
    }
    return f"# {header}\n" + compose_dump({k: v for k, v in tree.items() if k != "name"})


def _render(node: Any, variables: dict[str, str]) -> Any:
    """Interpolate every string, then escape what is left so Compose does not interpolate it a second time."""
    if isinstance(node, dict):
        return {_render(k, variables): _render(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, variables) for v in node]
    if isinstance(node, str):
        return interpolate(node, variables).replace("$", "$$")
    return node
