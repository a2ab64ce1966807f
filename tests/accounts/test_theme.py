"""The theme: each user picks system, light or dark on their account page or through PATCH /api/me/; the server
renders it on <html data-theme> so no page flashes the other theme first."""

import re

import pytest

from accounts.services.preferences import theme_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client, member_user):
    client.force_login(member_user)
    return client


def html_tag(response) -> str:
    html = response.content.decode()
    return html[html.index("<html") : html.index(">", html.index("<html")) + 1]


def test_system_leaves_the_choice_to_the_browser(user_client):
    page = user_client.get("/settings/")
    assert "data-theme" not in html_tag(page)
    assert '<meta name="color-scheme" content="light dark">' in page.content.decode()


def test_the_account_page_saves_the_theme_and_pages_render_in_it(user_client, member_user):
    response = user_client.post("/settings/theme/", {"theme": "dark"})
    assert response.status_code == 302
    member_user.refresh_from_db()
    assert member_user.theme == "dark"
    page = user_client.get("/apps/")
    assert 'data-theme="dark"' in html_tag(page)
    assert '<meta name="color-scheme" content="dark">' in page.content.decode()
    assert re.search(r'value="dark"[^>]* checked', user_client.get("/settings/").content.decode())


def test_an_unknown_theme_is_a_form_error_and_nothing_changes(user_client, member_user):
    response = user_client.post("/settings/theme/", {"theme": "neon"})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    member_user.refresh_from_db()
    assert member_user.theme == "system"


def test_the_theme_form_needs_csrf(client, member_user):
    from django.test import Client

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(member_user)
    assert guarded.post("/settings/theme/", {"theme": "dark"}).status_code == 403
    member_user.refresh_from_db()
    assert member_user.theme == "system"


def test_the_api_shows_and_changes_your_own_theme(user_client, member_user):
    assert user_client.get("/api/me/").json()["theme"] == "system"
    response = user_client.patch("/api/me/", {"theme": "light"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["theme"] == "light"
    member_user.refresh_from_db()
    assert member_user.theme == "light"


def test_the_api_refuses_an_unknown_theme(user_client, member_user):
    response = user_client.patch("/api/me/", {"theme": "neon"}, content_type="application/json")
    assert response.status_code == 400 and "theme" in response.json()
    member_user.refresh_from_db()
    assert member_user.theme == "system"


def test_a_user_changes_only_their_own_theme(user_client, member_user):
    other = UserFactory(username="other")
    user_client.patch("/api/me/", {"theme": "dark", "id": other.pk}, content_type="application/json")
    other.refresh_from_db()
    assert other.theme == "system"


def test_the_service_refuses_an_unknown_theme(member_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        theme_set(user=member_user, theme="<script>")
    member_user.refresh_from_db()
    assert member_user.theme == "system"


def test_a_read_token_cannot_change_the_theme(client, member_user):
    from accounts.services.tokens import api_token_create

    _, raw = api_token_create(user=member_user, name="reader", scope="read")
    response = client.patch(
        "/api/me/", {"theme": "dark"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 403
    member_user.refresh_from_db()
    assert member_user.theme == "system"
