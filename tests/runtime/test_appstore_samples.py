"""Every compose file of the real CasaOS app store parses and translates with CasaOS's built-in variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import labels as L
from runtime.compose import exposure, load_project, load_yaml


def casaos_variables(app_name: str) -> dict[str, str]:
    """What CasaOS itself provides: AppID is the app name, PUID/PGID 1000, the host TZ, an allocated web port."""
    return {"AppID": app_name, "PUID": "1000", "PGID": "1000", "TZ": "Europe/Berlin", "WEBUI_PORT": "18080"}


def test_it_translates_every_official_casaos_app(casaos_samples: Path):
    files = sorted(casaos_samples.glob("*/docker-compose.yml"))
    assert len(files) == 167
    failures, risky = [], 0
    for path in files:
        text = path.read_bytes()
        name = str(load_yaml(text).get("name") or path.parent.name)
        try:
            project = load_project(text, variables=casaos_variables(name), project_name=L.normalize_project_name(name))
        except Exception as exc:  # collect all, so one run names every broken app
            failures.append(f"{path.parent.name}: {exc}")
            continue
        assert project.containers and all(c.image for c in project.containers)
        assert all("$AppID" not in s for c in project.containers for s in c.bind_sources)
        assert "x-casaos" in project.extensions
        views = exposure(project)
        risky += any(v.privileged or v.network_mode == "host" or v.devices or v.cap_add for v in views)
    assert failures == []
    assert risky > 20  # about one app in five asks for something sensitive; the view must see them


@pytest.mark.parametrize("app", ["Jellyfin", "HomeAssistant", "Immich"])
def test_it_keeps_the_details_of_well_known_apps(casaos_samples: Path, app: str):
    path = casaos_samples / app / "docker-compose.yml"
    if not path.exists():
        pytest.skip(f"{app} is not in this snapshot of the store")
    text = path.read_text()
    name = load_yaml(text)["name"]
    project = load_project(text, variables=casaos_variables(name))
    assert any(src.startswith(f"/DATA/AppData/{name}") for c in project.containers for src in c.bind_sources)
