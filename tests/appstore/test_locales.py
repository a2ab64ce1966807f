"""Store content in the reader's language: Django's codes mapped to the store's locales, with real apps of the
official store (Siyuan-Note has a Chinese title, Jellyfin a German tagline), on every page that shows it."""

import shutil

import pytest
from django.urls import reverse
from django.utils import translation

from apps.models import Installation
from apps.selectors import app_card, app_state
from appstore.models import CatalogApp, InstalledTemplate
from appstore.parsing import pick
from appstore.parsing.locale import locale_candidates
from appstore.updates import installed_template_record
from tests.appstore.conftest import make_store, sync

pytestmark = pytest.mark.django_db
TEXTS = {"en_GB": "colour", "en_US": "color", "zh_TW": "顏色", "zh_CN": "颜色", "de_DE": "Farbe"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "color"),  # en_US before en_GB, whatever order the store wrote them in
        ("en-gb", "colour"),
        ("zh-hans", "颜色"),  # the script's regions: never Traditional for Simplified
        ("zh-hant", "顏色"),
        ("de", "Farbe"),
        ("de-at", "Farbe"),
        ("fr", "color"),  # no French: English
        ("", "color"),
    ],
)
def test_it_picks_the_locale_of_a_django_language(language, expected):
    assert pick(TEXTS, language) == expected


def test_it_falls_back_to_english_then_to_the_first_text():
    assert pick({"zh_TW": "顏色", "en_US": "color"}, "zh-hans") == "color"
    assert pick({"fr_FR": "couleur", "en_GB": "colour"}, "de") == "colour"
    assert pick({"fr_FR": "couleur", "ja_JP": "色"}, "de") == "couleur"
    assert pick({"zh": "颜色"}, "zh-hans") == "颜色"
    assert pick({}, "de") == ""


def test_it_tries_the_script_regions_and_the_language_itself():
    assert locale_candidates("zh-hans") == ["zh_Hans", "zh_CN", "zh_SG", "zh", "zh_ZH"]
    assert locale_candidates("de") == ["de", "de_DE"]
    assert locale_candidates("pt-br") == ["pt_BR", "pt", "pt_PT"]


@pytest.fixture
def samples(sample_store, tmp_path, allow_lan):
    """A folder store of two official apps: Siyuan-Note (title in Chinese) and Jellyfin (tagline in German)."""
    for name in ("Siyuan-Note", "Jellyfin"):
        shutil.copytree(sample_store / "Apps" / name, tmp_path / "store" / "Apps" / name)
    store = sync(make_store(path=str(tmp_path / "store"), name="Samples"))
    assert store.status == "ok", store.error
    return {a.store_app_id: a for a in CatalogApp.objects.filter(store=store)}


def test_the_store_pages_show_the_readers_language(client, admin_user, samples):
    client.force_login(admin_user)
    siyuan, jellyfin = samples["siyuan-note"], samples["jellyfin"]
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans,zh;q=0.9"}
    catalogue = client.get(reverse("appstore"), **zh).content.decode()
    assert "思源笔记" in catalogue and "个人媒体系统" in catalogue and "SiYuan Note" not in catalogue
    detail = client.get(reverse("appstore-app", args=[jellyfin.pk]), **zh).content.decode()
    assert "个人媒体系统" in detail and "Jellyfin 在媒体服务器应用中脱颖而出" in detail
    install = client.get(reverse("appstore-install", args=[siyuan.pk]), **zh).content.decode()
    assert "思源笔记默认工作区" in install and "<th>访问码</th>" in install  # a volume's description; the tip
    assert "<td><code>casaos</code></td>" in install  # the tip's table is a table (stores write credentials so)
    german = client.get(reverse("appstore-app", args=[jellyfin.pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Das persönliche Mediensystem" in german and "Jellyfin hebt sich" in german
    english = client.get(reverse("appstore"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SiYuan Note" in english and "The personal Media System" in english


def test_the_api_shows_the_readers_language(client, admin_user, samples):
    client.force_login(admin_user)
    body = client.get(reverse("api-catalog-list"), {"search": "siyuan"}, HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert [a["title"] for a in body["results"]] == ["思源笔记"]


def test_an_installed_store_app_is_named_in_the_readers_language(samples):
    siyuan = samples["siyuan-note"]
    inst = Installation.objects.create(
        name="siyuan-note", title="SiYuan Note", compose="services: {}\n", source="store"
    )
    installed_template_record(installation=inst, app=siyuan)
    inst = Installation.objects.get(pk=inst.pk)
    with translation.override("zh-hans"):
        assert app_state(inst)["title"] == "思源笔记"
        assert app_card(inst)["initial"] == "思"
    with translation.override("de"):  # no German title: English
        assert app_state(inst)["title"] == "SiYuan Note"
    assert str(inst) == "SiYuan Note"  # the admin, audit and logs keep the English one


def test_an_app_without_a_store_template_keeps_its_own_title(db):
    inst = Installation.objects.create(name="mine", title="My app", compose="services: {}\n", source="store")
    custom = Installation.objects.create(name="other", compose="services: {}\n", source="custom")
    with translation.override("zh-hans"):
        assert app_state(inst)["title"] == "My app" and app_state(custom)["title"] == "other"
    assert not InstalledTemplate.objects.exists()
