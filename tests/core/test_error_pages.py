"""403, 404 and 500 are pages of the site (its layout, its navigation, a way back); under /api/ they are JSON."""

import pytest

from casaos_site import views

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, member_user):
    client.force_login(member_user)
    return client


def assert_styled(response, status: int, element_id: str) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert "site-header" in html and "css/casa.css" in html, "inside the layout"
    assert f'id="{element_id}"' in html
    return html


def test_a_missing_page_is_a_styled_404_with_a_way_back(member_client):
    html = assert_styled(member_client.get("/no/such/page/"), 404, "not-found")
    assert "Page not found" in html and 'href="/"' in html and 'id="site-nav"' in html


def test_a_logged_out_404_leads_to_the_login(client):
    html = assert_styled(client.get("/no/such/page/"), 404, "not-found")
    assert 'href="/login/"' in html and 'id="site-nav"' not in html


def test_a_refused_page_is_a_styled_403_with_a_way_back(member_client):
    html = assert_styled(member_client.get("/settings/users/"), 403, "forbidden")
    assert "Not allowed" in html and "Back to the dashboard" in html


def test_a_server_error_is_a_styled_500(member_client, monkeypatch):
    monkeypatch.setattr(views, "run_checks", lambda: 1 / 0)
    member_client.raise_request_exception = False
    html = assert_styled(member_client.get("/system/status/"), 500, "server-error")
    assert "Something went wrong" in html and "ZeroDivisionError" not in html


def test_the_api_answers_its_errors_in_json(member_client):
    missing = member_client.get("/api/no-such-endpoint/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    refused = member_client.get("/api/users/")
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("handler", [views.permission_denied, views.page_not_found])
def test_the_handlers_answer_json_under_the_api(rf, handler):
    response = handler(rf.get("/api/anything/"), Exception("x"))
    assert response["Content-Type"] == "application/json"


def test_an_api_server_error_is_json(rf):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = views.server_error(rf.get("/api/apps/"))
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
