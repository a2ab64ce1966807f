"""The home page's sample apps: a few of the official store's apps synced through a folder store and recorded as
installed (test_home.py and test_home_look.py share them)."""

import shutil

import pytest

from apps.models import Installation
from appstore.parsing.locale import pick
from tests.appstore.conftest import SAMPLE_STORE, make_store, sync

S = Installation.Status
SAMPLES = (
    ("Jellyfin", S.RUNNING),
    ("Nextcloud", S.RUNNING),
    ("HomeAssistant", S.STOPPED),
    ("Syncthing", S.RUNNING),
    ("Immich", S.FAILED),
    ("Vaultwarden", S.RUNNING),
)


@pytest.fixture
def store_apps(tmp_path, transactional_db):
    """A folder store with a few of the official store's apps, synced; each recorded as installed from it (the
    tiles show what the store gave: title and icon; no container is needed for what these tests look at)."""
    from appstore.models import AppstoreSettings, CatalogApp

    for folder, _status in SAMPLES:
        source = SAMPLE_STORE / "Apps" / folder
        if not source.exists():
            pytest.skip(f"{source} is absent (the shared store samples)")
        shutil.copytree(source, tmp_path / "store" / "Apps" / folder)
    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)
    store = sync(make_store(path=str(tmp_path / "store"), name="Samples"))
    installed = []
    for app, (_folder, status) in zip(
        CatalogApp.objects.filter(store=store).order_by("title_sort"), SAMPLES, strict=False
    ):
        title = pick(app.title, "en") or app.store_app_id
        installed.append(
            Installation.objects.create(
                name=app.store_app_id.lower()[:60],
                title=title,
                compose="services: {}",
                status=status,
                source=Installation.Source.STORE,
                store_ref=str(app.pk),
            )
        )
    return installed
