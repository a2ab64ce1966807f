"""Export an app as one compose file that `docker compose up` accepts as it is."""

from typing import Any

from runtime.compose import interpolate, load_yaml

from ..models import Installation
from .settings_edit import compose_dump


def app_export(*, installation: Installation) -> str:
    """The stored compose with our variables written in (a literal `$` escaped again as `$$`) and the app's name."""
    tree = load_yaml(installation.compose)
    tree = _render(tree, installation.variables)
    return compose_dump({"name": installation.name, **{k: v for k, v in tree.items() if k != "name"}})


def _render(node: Any, variables: dict[str, str]) -> Any:
    """Interpolate every string, then escape what is left so Compose does not interpolate it a second time."""
    if isinstance(node, dict):
        return {_render(k, variables): _render(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, variables) for v in node]
    if isinstance(node, str):
        return interpolate(node, variables).replace("$", "$$")
    return node
