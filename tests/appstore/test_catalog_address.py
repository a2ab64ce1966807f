"""The App Store's address holds its search and filters: checked on the server, never a 500, the clean address pushed
into the history, and a page answer the browser's cache cannot mistake for a results fragment."""

import shutil

import pytest
from django.urls import reverse

from appstore.models import CatalogApp
from tests.appstore.conftest import ODD_STORE, make_store, sync

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"}


@pytest.fixture
def odd(db, allow_lan):
    return sync(make_store(path=str(ODD_STORE), name="Odd store"))


@pytest.fixture
def member(client, member_user):
    client.force_login(member_user)
    return client


def titles(body: str) -> set[str]:
    return {t for t in ("Hello Board", "Anchors Away", "Risky Agent", "Remote Assets") if t in body}


def test_a_link_with_filters_shows_the_same_results_as_the_search(member, odd):
    url = reverse("appstore")
    body = member.get(url, {"q": "hello", "category": "developer", "runs_here": "1"}).content.decode()
    assert titles(body) == {"Hello Board"} and 'value="hello"' in body
    assert '<option value="Developer" selected>' in body  # the category as the store spells it
    assert "Featured" not in body  # a filtered page shows results, not the shelves
    body = member.get(url, {"author_type": "by_casaos"}).content.decode()
    assert titles(body) == {"Anchors Away"} and '<option value="by_casaos" selected>' in body


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "Nope"}, "Category"),
        ({"author_type": "evil"}, "Author"),
        ({"store": "²"}, "Store"),  # str.isdigit() says yes, int() says no: this was a 500
        ({"store": "999999"}, "Store"),
        ({"store": "-1"}, "Store"),
    ],
)
def test_a_value_that_names_nothing_is_left_out_and_said(member, odd, params, field):
    response = member.get(reverse("appstore"), params)
    body = response.content.decode()
    assert response.status_code == 200
    assert "match nothing here and were left out" in body and f"{field} “{next(iter(params.values()))}”" in body
    assert {"Hello Board", "Anchors Away"} <= titles(body)  # the unfiltered catalogue
    assert "0 apps" not in body


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"q": "\x00hello"},
        {"page": "abc"},
        {"page": "99999999999999999999"},
        {"category": "\x00"},
        {"q": ["a", "b"], "category": ["Developer", "Media"]},
        {"runs_here": "maybe"},
    ],
)
def test_odd_query_strings_never_fail(member, odd, params):
    assert member.get(reverse("appstore"), params).status_code == 200
    assert member.get(reverse("appstore"), params, **HTMX).status_code == 200


def test_a_search_pushes_the_clean_address(member, odd):
    response = member.get(
        reverse("appstore"), {"q": "hello", "category": "", "author_type": "bad", "page": "1"}, **HTMX
    )
    assert response["HX-Push-Url"] == "/appstore/?q=hello"
    assert "match nothing here" in response.content.decode()
    response = member.get(reverse("appstore"), {"q": "", "category": "media", "runs_here": "1"}, **HTMX)
    assert response["HX-Push-Url"] == "/appstore/?category=Media&runs_here=1"
    response = member.get(reverse("appstore"), {"q": ""}, **HTMX)
    assert response["HX-Push-Url"] == "/appstore/"


def test_the_page_and_the_fragment_vary_on_the_htmx_headers(member, odd):
    for extra in ({}, HTMX):
        vary = member.get(reverse("appstore"), {"q": "hello"}, **extra)["Vary"]
        assert "HX-Request" in vary and "HX-Target" in vary


def test_a_history_restore_gets_the_whole_page(member, odd):
    """Back and Forward fetch the page of the address (no snapshot is cached): the search box shows its search."""
    response = member.get(
        reverse("appstore"), {"q": "anchors"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" in body and 'value="anchors"' in body and titles(body) == {"Anchors Away"}
    assert 'hx-history="false"' in body


def test_the_store_filter_appears_with_a_second_store_and_narrows(member, odd, tmp_path):
    assert 'name="store"' not in member.get(reverse("appstore")).content.decode()
    shutil.copytree(ODD_STORE, tmp_path / "second")
    other = sync(make_store(path=str(tmp_path / "second"), name="Second store"))
    body = member.get(reverse("appstore")).content.decode()
    assert 'name="store"' in body and "Second store" in body
    body = member.get(reverse("appstore"), {"store": other.pk, "q": "hello"}).content.decode()
    assert "1 app for" in body and f'<option value="{other.pk}" selected>' in body
    assert CatalogApp.objects.filter(store_app_id="hello").count() == 2
