"""The language a person sees: their own choice, else the login page's cookie, else Accept-Language, else English;
pages, the API (session or token), and websocket fragments alike."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils.translation import gettext

from accounts.consumers import SessionBoundConsumer
from accounts.models import APIToken
from accounts.services.language import language_resolve, scope_language, user_language_set
from accounts.services.tokens import api_token_create
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOG_IN = {"en": "Log in", "de": "Anmelden", "zh-hans": "登录"}


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_follows_accept_language_on_the_login_page(client):
    assert LOG_IN["de"] in client.get("/login/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9").content.decode()
    assert LOG_IN["zh-hans"] in client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()


def test_it_falls_back_to_english_for_a_language_we_do_not_speak(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert f"<h1>{LOG_IN['en']}</h1>" in response.content.decode()
    assert response["Content-Language"] == "en"


def test_the_login_page_switch_sets_a_cookie_that_wins_over_accept_language(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert LOG_IN["zh-hans"] in client.get("/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_switch_refuses_to_redirect_elsewhere(client):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_login_page_offers_the_switch(client):
    body = client.get("/login/").content.decode()
    assert 'action="/i18n/setlang/"' in body and 'value="zh-hans"' in body and 'value="de"' in body


def test_a_users_own_language_wins_over_the_browser_and_the_cookie(member_user):
    user_language_set(user=member_user, language="de")
    client = _logged_in(member_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get("/settings/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "Passwort ändern" in response.content.decode()
    assert response["Content-Language"] == "de"


def test_a_user_without_a_choice_follows_the_browser(member_user):
    response = _logged_in(member_user).get("/settings/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "更改密码" in response.content.decode()


def test_the_settings_page_saves_the_language_and_the_cookie(member_user):
    client = _logged_in(member_user)
    response = client.post("/settings/language/", {"language": "zh-hans"})
    assert response.status_code == 302
    member_user.refresh_from_db()
    assert member_user.language == "zh-hans"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "更改密码" in client.get("/settings/").content.decode()


def test_choosing_the_browsers_language_clears_the_choice_and_the_cookie(member_user):
    user_language_set(user=member_user, language="de")
    client = _logged_in(member_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.post("/settings/language/", {"language": ""})
    member_user.refresh_from_db()
    assert member_user.language == ""
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    assert "Change password" in client.get("/settings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_settings_page_refuses_a_language_we_do_not_offer(member_user):
    client = _logged_in(member_user)
    client.post("/settings/language/", {"language": "fr"})
    member_user.refresh_from_db()
    assert member_user.language == ""


def test_the_settings_page_needs_csrf(member_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_user)
    assert client.post("/settings/language/", {"language": "de"}).status_code == 403
    member_user.refresh_from_db()
    assert member_user.language == ""


def test_the_api_shows_and_changes_the_language(member_user):
    client = _logged_in(member_user)
    assert client.get("/api/me/").json()["language"] == ""
    response = client.patch("/api/me/", {"language": "de"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["language"] == "de"
    member_user.refresh_from_db()
    assert member_user.language == "de"


def test_the_api_refuses_a_language_we_do_not_offer(member_user):
    response = _logged_in(member_user).patch("/api/me/", {"language": "xx"}, content_type="application/json")
    assert response.status_code == 400 and "language" in response.json()
    member_user.refresh_from_db()
    assert member_user.language == ""


def test_a_read_token_cannot_change_the_language(member_user):
    raw = api_token_create(user=member_user, name="dash", scope=APIToken.Scope.READ)[1]
    response = Client().patch(
        "/api/me/", {"language": "de"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 403
    member_user.refresh_from_db()
    assert member_user.language == ""


def test_api_messages_follow_the_token_owners_language(member_user):
    user_language_set(user=member_user, language="de")
    raw = api_token_create(user=member_user, name="script", scope=APIToken.Scope.FULL)[1]
    response = Client().post("/api/tokens/", {"name": "x"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert response.json()["detail"] == "Erstelle Tokens aus einer angemeldeten Sitzung, nicht mit einem Token."


def test_api_messages_follow_accept_language_for_anonymous_callers():
    response = Client().get("/api/me/", HTTP_ACCEPT_LANGUAGE="zh-CN", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401 and response.json()["detail"] == "令牌无效或已过期。"


def test_it_resolves_the_language_in_this_order():
    user = UserFactory.build(language="de")
    assert language_resolve(user=user, cookie="zh-hans", accept="en") == "de"
    user.language = ""
    assert language_resolve(user=user, cookie="zh-hans", accept="de") == "zh-hans"
    assert language_resolve(user=user, cookie="xx", accept="fr, de-CH;q=0.5") == "de"
    assert language_resolve(user=user, accept="zh-TW") == "zh-hans"  # our only Chinese
    assert language_resolve(user=user, accept="fr") == "en"


def test_a_socket_resolves_its_users_language_from_its_scope():
    user = UserFactory.build(language="")
    headers = [(b"accept-language", b"de-DE,de;q=0.9")]
    assert scope_language({"user": user, "headers": headers, "cookies": {}}) == "de"
    assert scope_language({"user": user, "headers": headers, "cookies": {"django_language": "zh-hans"}}) == "zh-hans"
    user.language = "en"
    assert scope_language({"user": user, "headers": headers, "cookies": {}}) == "en"


class _Greeter(SessionBoundConsumer):
    """Renders a translated string on every message, as the apps' fragments do."""

    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=gettext("Log in"))


def _greeting(user, language_header: bytes) -> str:
    app = _Greeter.as_asgi()

    async def with_user(scope, receive, send):
        return await app({**scope, "user": user, "cookies": {}}, receive, send)

    async def talk():
        communicator = WebsocketCommunicator(with_user, "/ws/test/", headers=[(b"accept-language", language_header)])
        await communicator.connect(timeout=5)
        await communicator.send_to(text_data="hi")
        text = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return text

    return async_to_sync(talk)()


def test_websocket_fragments_render_in_the_users_language():
    user = UserFactory.build(language="zh-hans")  # the scope's user, loaded when the socket opened
    assert _greeting(user, b"de") == LOG_IN["zh-hans"]
    user.language = ""
    assert _greeting(user, b"de") == LOG_IN["de"]


def test_the_login_form_still_logs_in_after_a_switch(client, member_user):
    client.post("/i18n/setlang/", {"language": "de", "next": "/login/"})
    response = client.post("/login/", {"username": member_user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_the_language_choices_are_read_when_a_form_is_made(settings):
    """Choices fixed at import took whatever LANGUAGES a test had set when the module first loaded (zh-hans refused)."""
    from accounts.forms import LanguageForm

    settings.LANGUAGES = [("en", "English")]
    assert [code for code, _name in LanguageForm().fields["language"].choices] == ["", "en"]
    settings.LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
    assert LanguageForm({"language": "zh-hans"}).is_valid()
