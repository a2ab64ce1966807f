"""Syncing stores over real HTTP (loopback server) and from folders: conditional, atomic, tolerant."""

import pytest

from appstore.models import CatalogApp, Store
from tests.appstore.conftest import ODD_STORE, V2_STORE, make_store, sync

pytestmark = pytest.mark.django_db


def apps_of(store):
    return {a.store_app_id: a for a in CatalogApp.objects.filter(store=store)}


def test_it_imports_a_zip_store_with_every_odd_variant(store_server, allow_lan):
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip")))
    assert store.status == Store.Status.OK, store.error
    apps = apps_of(store)
    assert set(apps) == {"hello", "anchors", "my.app", "risky", "xss", "remote"}
    # One broken app never breaks a store: it is listed with its reason.
    reasons = {p["app"]: p["reason"] for p in store.problems}
    assert "invalid YAML" in reasons["Broken"]
    assert "no services" in reasons["NoServices"]
    assert store.app_count == 6


def test_it_reads_locales_anchors_and_misplaced_keys(store_server, allow_lan):
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip")))
    apps = apps_of(store)
    anchors = apps["anchors"]
    assert anchors.title == {"en_US": "Anchors Away", "zh_CN": "锚"}  # en_us / ZH_cn normalised
    assert anchors.tagline == {"en_US": "Merges and CRLF"}
    assert anchors.release_notes == {"en_US": "First release, as a plain string"}
    assert anchors.main == "app" and anchors.port_map == "8090"  # no main, no port_map: derived
    assert anchors.author_type == "by_casaos"
    assert anchors.recommended
    dotted = apps["my.app"]
    assert dotted.title == {"en_US": "Dotted Thing"}  # from the service-level x-casaos
    assert dotted.main == "main-svc"  # main named no service
    assert dotted.architecture_list == ["amd64", "arm64", "arm"]
    assert dotted.tips == {"before_install": {"en_US": "Read the manual first."}}
    hello = apps["hello"]
    assert hello.author_type == "official" and hello.featured
    assert hello.services["web"]["envs"][0] == {
        "container": "GREETING",
        "description": {"en_US": "What the page says", "de_DE": "Was die Seite sagt"},
    }
    assert hello.icon.endswith(".png") and len(hello.screenshots) == 1
    assert "zèbres" in hello.search_text


def test_it_fetches_remote_assets_and_leaves_unreachable_ones_out(store_server, allow_lan, appstore_dir):
    store = sync(make_store(url=store_server.publish_zip(ODD_STORE, "odd.zip")))
    remote = apps_of(store)["remote"]
    assert remote.icon.endswith(".png")
    assert (appstore_dir / "assets" / remote.icon).is_file()
    assert remote.thumbnail == "" and remote.screenshots == []  # 404 and unresolvable host
    assert apps_of(store)["anchors"].icon == ""  # empty icon: the page shows a placeholder


def test_it_does_not_download_again_when_nothing_changed(store_server, allow_lan):
    url = store_server.publish_zip(ODD_STORE, "odd.zip")
    store = sync(make_store(url=url))
    first_ids = {a.store_app_id: a.pk for a in store.apps.all()}
    store = sync(store)
    assert store.status == Store.Status.OK
    assert store_server.gets("odd.zip") == [200, 304]
    assert {a.store_app_id: a.pk for a in store.apps.all()} == first_ids


def test_it_keeps_ids_and_updates_changed_apps(store_server, allow_lan):
    url = store_server.publish_zip(ODD_STORE, "odd.zip")
    store = sync(make_store(url=url))
    before = apps_of(store)
    store_server.publish_zip(
        ODD_STORE,
        "odd.zip",
        skip=("Apps/Xss", "Apps/Hello/docker-compose.yml"),
        extra={
            "Apps/Hello/docker-compose.yml": (ODD_STORE / "Apps/Hello/docker-compose.yml")
            .read_bytes()
            .replace(b'version: "1.0.0"', b'version: "1.1.0"')
        },
    )
    store = sync(store)
    after = apps_of(store)
    assert "xss" not in after
    assert after["hello"].pk == before["hello"].pk
    assert after["hello"].version == "1.1.0"
    assert after["hello"].content_hash != before["hello"].content_hash
    assert after["anchors"].content_hash == before["anchors"].content_hash


def test_it_keeps_the_last_good_catalogue_when_the_zip_is_broken(store_server, allow_lan):
    url = store_server.publish_zip(ODD_STORE, "odd.zip")
    store = sync(make_store(url=url))
    store_server.put("odd.zip", b"PK\x03\x04 this is not really a zip")
    store = sync(store)
    assert store.status == Store.Status.ERROR
    assert "not a zip" in store.error
    assert store.apps.count() == 6 and store.app_count == 6


def test_it_reports_a_missing_archive(store_server, allow_lan):
    store = sync(make_store(url=store_server.url("nothing.zip")))
    assert store.status == Store.Status.ERROR
    assert "404" in store.error


def test_it_reports_a_zip_without_a_store(store_server, allow_lan, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("hello")
    store = sync(make_store(url=store_server.publish_zip(tmp_path / "empty", "empty.zip")))
    assert store.status == Store.Status.ERROR
    assert "no store" in store.error


def test_it_imports_a_v2_static_store_over_http(store_server, allow_lan, tmp_path):
    import shutil

    shutil.copytree(V2_STORE, store_server.root / "v2")
    store = sync(make_store(url=store_server.url("v2/index.json")))
    assert store.kind == Store.Kind.V2
    assert store.status == Store.Status.OK, store.error
    app = apps_of(store)["hello-two"]
    assert app.title == {"en_US": "Hello Two", "de_DE": "Hallo Zwei"}  # index.de_DE.json
    assert app.description == {
        "en_US": "Built by the v2 pipeline.",
        "de_DE": "Von der v2-Pipeline gebaut, mit Zebrastreifen.",
    }  # meta.de_DE.json
    assert app.release_notes == {"en_US": "Now in v2", "de_DE": "Jetzt in v2"}
    assert app.tips == {"before_install": {"de_DE": "Vorher lesen."}}
    # Locale variants are looked for where the build writes them; absent ones cost one 404 each.
    assert store_server.gets("v2/index.de_DE.json") == [200] and store_server.gets("v2/index.fr_FR.json") == [404]
    assert store_server.gets("v2/apps/com.example.hello/meta.de_DE.json") == [200]
    assert not store_server.gets("v2/apps/com.example.hello/meta.fr_FR.json")  # fr_FR lists no app
    assert app.content_hash == "abc123"
    assert app.icon.endswith(".svg")
    assert [p["app"] for p in store.problems] == ["com.example.escape"]
    store = sync(store)
    assert store_server.gets("v2/index.json") == [200, 304]


def test_v2_locale_texts_reach_search_and_the_ui_language(client, member_user, settings, allow_lan):
    from django.urls import reverse

    v2 = sync(make_store(path=str(V2_STORE)))
    app = apps_of(v2)["hello-two"]
    assert app.title == {"en_US": "Hello Two", "de_DE": "Hallo Zwei"}
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    client.force_login(member_user)
    for words in ("zebrastreifen", "hallo zwei"):  # German description and title, searched in English
        assert "Hello Two" in client.get(reverse("appstore"), {"q": words}).content.decode(), words
    page = client.get(reverse("appstore-app", args=[app.pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Hallo Zwei" in page and "Eine v2-App" in page and "Zebrastreifen" in page
    body = client.get(reverse("api-catalog-detail", args=[app.pk]), HTTP_ACCEPT_LANGUAGE="de").json()
    assert (body["title"], body["description"]) == ("Hallo Zwei", "Von der v2-Pipeline gebaut, mit Zebrastreifen.")


def test_it_imports_folder_stores_of_both_layouts(db, allow_lan):
    odd = sync(make_store(path=str(ODD_STORE)))
    assert odd.status == Store.Status.OK and odd.app_count == 6
    v2 = sync(make_store(path=str(V2_STORE)))
    assert v2.status == Store.Status.OK and v2.app_count == 1
    # The escaping compose_url of the v2 index is refused, not read.
    assert "not a file inside the store" in v2.problems[0]["reason"]


def test_it_keeps_folder_store_assets_inside_the_store(db, tmp_path, allow_lan):
    import shutil

    shutil.copytree(ODD_STORE, tmp_path / "store")
    secret = tmp_path / "secret.png"
    secret.write_bytes((ODD_STORE / "Apps/Hello/icon.png").read_bytes())
    compose = tmp_path / "store/Apps/Hello/docker-compose.yml"
    compose.write_text(compose.read_text().replace("icon: icon.png", "icon: ../../../secret.png"))
    (tmp_path / "store/Apps/Hello/link.png").symlink_to(secret)
    shot = compose.read_text().replace("- screenshot-1.png", "- link.png")
    compose.write_text(shot)
    store = sync(make_store(path=str(tmp_path / "store")))
    hello = apps_of(store)["hello"]
    assert hello.icon == "" and hello.screenshots == []


def test_the_default_store_fails_gracefully_without_internet(default_store):
    store = default_store
    assert store.status == Store.Status.NEW  # configured, never synced on its own
    store = sync(store)
    assert store.status == Store.Status.ERROR
    assert store.error


@pytest.mark.timeout(600)
def test_it_imports_every_app_of_the_official_sample(store_server, allow_lan, sample_store):
    url = store_server.publish_zip(sample_store, "official.zip", prefix="CasaOS-AppStore-main/")
    store = sync(make_store(url=url))
    assert store.status == Store.Status.OK, store.error
    assert store.problems == []
    assert store.app_count == 167
    assert CatalogApp.objects.filter(store=store, featured=True).count() > 10
    jellyfin = CatalogApp.objects.get(store=store, store_app_id="jellyfin")
    assert jellyfin.icon.endswith(".svg")  # the CDN URL resolved to the file in the app's folder
    assert jellyfin.author_type == "by_casaos"
    assert jellyfin.risk["flags"]  # devices
