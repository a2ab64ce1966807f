"""Catalogue pages: browse, search, filters, app page (escaped, sanitised, risk), stores admin, install form."""

import socket

import pytest
from django.urls import reverse

from accounts.permissions import STEPUP_SESSION_KEY
from apps.models import Installation
from apps.services.policy import app_data_folder
from appstore.models import AppstoreSettings, CatalogApp, InstalledTemplate, Store
from tests.appstore.conftest import ODD_STORE, V2_STORE, make_store, sync
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def odd(db, allow_lan):
    return sync(make_store(path=str(ODD_STORE), name="Odd store"))


def app(store_app_id):
    return CatalogApp.objects.get(store_app_id=store_app_id)


def login(client, user, *, stepup=False):
    client.force_login(user)
    if stepup:
        session = client.session
        session[STEPUP_SESSION_KEY] = 9e12
        session.save()
    return client


def test_it_shows_the_catalogue_with_shelves_and_category_counts(client, member_user, odd):
    page = login(client, member_user).get(reverse("appstore")).content.decode()
    assert "Hello Board" in page and "Featured" in page and "Recommended" in page
    assert "Developer <small>3</small>" in page  # hello, my.app, risky
    assert "6 apps" in page


def test_it_searches_every_locale_and_filters(client, member_user, odd):
    login(client, member_user)
    url = reverse("appstore")
    assert "Hello Board" in client.get(url, {"q": "zèbres"}).content.decode()  # French description
    assert "Hello Board" in client.get(url, {"q": "hallo"}).content.decode()  # German title
    page = client.get(url, {"q": "hello", "category": "Media"}).content.decode()
    assert "0 apps" in page
    page = client.get(url, {"author_type": "by_casaos"}).content.decode()
    assert "Anchors Away" in page and "Hello Board" not in page


def test_it_answers_htmx_searches_with_the_results_fragment(client, member_user, odd):
    login(client, member_user)
    response = client.get(
        reverse("appstore"), {"q": "anchors"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="catalog-results"')
    assert "Anchors Away" in body and "<html" not in body


def test_it_uses_the_ui_language_with_fallback(client, member_user, odd, settings):
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    login(client, member_user)
    page = client.get(reverse("appstore-app", args=[app("hello").pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Hallo Brett" in page and "Sagt allen hallo" in page
    assert "A <strong>friendly</strong> board" in page  # no German description: en_US


def test_it_shows_hostile_titles_as_text_and_sanitises_descriptions(client, member_user, odd):
    login(client, member_user)
    xss = app("xss")
    page = client.get(reverse("appstore-app", args=[xss.pk])).content.decode()
    assert "<script>alert" not in page and "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;Evil" in page
    assert "javascript:" not in page and "onclick" not in page
    listing = client.get(reverse("appstore")).content.decode()
    assert "<script>alert" not in listing


def test_it_shows_the_risk_report_in_plain_words(client, admin_user, odd):
    login(client, admin_user)
    page = client.get(reverse("appstore-app", args=[app("risky").pk])).content.decode()
    assert "This app asks for:" in page
    for words in (
        "full control of Docker",
        "your whole disk",
        "full control of this machine",
        "hardware devices",
        "system folders",
    ):
        assert words in page
    assert 'data-risk="cap_add"' in page


def test_members_cannot_install_flagged_apps(client, member_user, installer_user, odd):
    risky = app("risky")
    for user in (member_user, installer_user):  # allowed to install or not, a member never gets host access
        login(client, user)
        assert "Needs an administrator" in client.get(reverse("appstore-app", args=[risky.pk])).content.decode()
    response = client.post(reverse("appstore-install", args=[risky.pk]), {"name": "risky", "consent": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("appstore-app", args=[risky.pk])
    login(client, member_user)
    response = client.post(reverse("appstore-install", args=[risky.pk]), {"name": "risky", "consent": "on"})
    assert response.status_code == 403 and "needs an administrator" in response.content.decode()


def test_the_install_form_is_prefilled_and_labelled_from_x_casaos(client, installer_user, odd, settings):
    login(client, installer_user)
    page = client.get(reverse("appstore-install", args=[app("hello").pk])).content.decode()
    assert "What the page says" in page and 'value="hello"' in page  # env label and value
    assert "Web UI port" in page and 'value="18080"' in page
    assert "host port → container port 8080/tcp" in page  # the field is the host side of the mapping
    assert f'value="{settings.APPSTORE_APPS_DATA_ROOT}/hello/data"' in page  # /DATA/AppData/$AppID → data root


def test_it_reports_a_busy_port_and_suggests_a_free_one(client, installer_user, odd):
    login(client, installer_user)
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        response = client.post(
            reverse("appstore-install", args=[app("hello").pk]),
            {
                "name": "hello",
                "port__web__0": str(port),
                "env__web__GREETING": "hi",
                "env__web__TZ": "UTC",
                "vol__web__0": "/tmp/hello",
            },
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Port {port} is in use on this machine" in page and "is free" in page


def test_values_that_grant_host_access_need_consent_and_stepup(client, admin_user, odd):
    login(client, admin_user)
    url = reverse("appstore-install", args=[app("hello").pk])
    data = {
        "name": "hello",
        "port__web__0": str(free_port()),
        "env__web__GREETING": "hi",
        "env__web__TZ": "UTC",
        "vol__web__0": "/etc",
    }
    page = client.post(url, data).content.decode()
    assert "confirm below" in page and not Installation.objects.exists()
    page = client.post(url, {**data, "consent": "on"}).content.decode()
    assert "step-up" in page and not Installation.objects.exists()


@pytest.mark.docker
def test_install_hands_the_rendered_compose_to_the_installer(
    client, admin_user, odd, docker_engine, app_name, tmp_path
):
    login(client, admin_user, stepup=True)
    hello = app("hello")
    response = client.post(
        reverse("appstore-install", args=[hello.pk]),
        {
            "name": app_name,
            "port__web__0": str(free_port()),
            "env__web__GREETING": "costs $5",
            "env__web__TZ": "UTC",
            "vol__web__0": app_data_folder(app_name) + "/data",
        },
    )
    inst = Installation.objects.get(name=app_name)
    assert response.status_code == 302 and response["Location"] == reverse("app-detail", args=[inst.pk])
    assert "GREETING: costs $$5" in inst.compose and f"source: {app_data_folder(app_name)}/data" in inst.compose
    assert (inst.source, inst.store_ref, inst.status) == ("store", str(hello.pk), "pending")
    record = InstalledTemplate.objects.get(installation=inst)
    assert (record.store_app_id, record.content_hash, record.update_available) == ("hello", hello.content_hash, False)


@pytest.mark.docker
def test_the_installers_refusals_show_on_the_form(client, admin_user, odd, docker_engine, app_name):
    Installation.objects.create(name=app_name, compose="services: {}\n", status="running")
    login(client, admin_user)
    page = client.post(
        reverse("appstore-install", args=[app("hello").pk]),
        {
            "name": app_name,
            "port__web__0": str(free_port()),
            "env__web__GREETING": "hi",
            "env__web__TZ": "UTC",
            "vol__web__0": "/srv/hello",
        },
    ).content.decode()
    assert f"The name {app_name} is already used by another app." in page
    assert Installation.objects.count() == 1 and not InstalledTemplate.objects.exists()


def test_assets_are_served_from_our_origin_with_a_sandbox(client, member_user, odd):
    login(client, member_user)
    hello = app("hello")
    response = client.get(reverse("appstore-asset", args=[hello.icon]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "sandbox" in response["Content-Security-Policy"]
    assert client.get("/appstore/assets/..%2F..%2Fsecret_key").status_code == 404
    assert client.get(reverse("appstore-asset", args=["secret_key"])).status_code == 404
    placeholder = client.get(reverse("appstore-placeholder", args=[app("anchors").pk]))
    assert placeholder["Content-Type"] == "image/svg+xml" and b">A</text>" in placeholder.content


def test_admins_manage_stores_on_the_stores_page(
    client, admin_user, odd, default_store, django_capture_on_commit_callbacks
):
    login(client, admin_user)
    page = client.get(reverse("appstore-stores")).content.decode()
    assert "Odd store" in page and "CasaOS official" in page and "2 apps could not be imported" in page
    response = client.post(reverse("appstore-stores"), {"path": str(V2_STORE), "name": "Local v2"})
    assert response.status_code == 302
    store = Store.objects.get(name="Local v2")
    assert store.status == Store.Status.QUEUED
    client.post(reverse("appstore-store-action", args=[odd.pk, "disable"]))
    assert "Hello Board" not in client.get(reverse("appstore")).content.decode()
    client.post(reverse("appstore-lan"), {"allow_lan_stores": "on"})
    assert AppstoreSettings.load().allow_lan_stores
    client.post(reverse("appstore-store-action", args=[odd.pk, "remove"]))
    assert not Store.objects.filter(pk=odd.pk).exists() and not CatalogApp.objects.filter(store_id=odd.pk).exists()
    problems = client.get(reverse("appstore-store", args=[store.pk]))
    assert problems.status_code == 200


def test_members_cannot_touch_stores(client, member_user, odd):
    login(client, member_user)
    assert client.post(reverse("appstore-stores"), {"path": str(V2_STORE)}).status_code == 403
    assert client.post(reverse("appstore-store-action", args=[odd.pk, "remove"])).status_code == 403
    assert client.post(reverse("appstore-lan"), {}).status_code == 403  # an attempt to turn the switch off
    assert Store.objects.filter(pk=odd.pk).exists() and not Store.objects.filter(path=str(V2_STORE)).exists()
    assert AppstoreSettings.load().allow_lan_stores  # the odd store's fixture turned it on; it stays on


def test_the_install_form_offers_our_mounted_disks_to_admins_only(client, admin_user, installer_user, odd, monkeypatch):
    from appstore import views

    monkeypatch.setattr(views, "mounted_roots", lambda: [("Data", "/media/Data")])
    page = login(client, admin_user).get(reverse("appstore-install", args=[app("hello").pk])).content.decode()
    assert "Place for the app&#x27;s data" in page and '<option value="/media/Data">Data</option>' in page
    client.logout()
    member_page = login(client, installer_user).get(reverse("appstore-install", args=[app("hello").pk]))
    assert "data_disk" not in member_page.content.decode()
