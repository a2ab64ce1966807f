"""The API is documented without warnings: `check --deploy` with production settings says nothing (issue 3
requires it; drf-spectacular reports views it cannot describe there), and the catalogue endpoints are in it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_prints_no_warning_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASAOS_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="casaos_site.settings", CASAOS_DATA_DIR=str(tmp_path / "data"), CASAOS_HTTPS="true"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr  # every warning (drf_spectacular.W001/W002 too) goes to stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


@pytest.mark.django_db
def test_the_schema_documents_installing_from_the_catalogue(client, member_user):
    client.force_login(member_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    install = schema["paths"]["/api/catalog/{id}/install/"]["post"]
    assert install["parameters"][0]["schema"]["type"] == "integer"  # `id` is typed, not guessed
    assert "202" in install["responses"]
    app = schema["components"]["schemas"]["CatalogAppDetail"]["properties"]
    assert {"installed", "update_available", "install_fields"} <= set(app)
