"""A change's step and error, written by the worker (in whatever language it runs), and the refusals, are message
ids: the API, the page and the socket say them in each reader's language."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

from accounts.services.language import user_language_set
from casaos_site.asgi import application
from casaos_site.events import apublish
from casaos_site.i18n import shown
from network import services
from network.models import NetworkChange
from network.selectors import change_event
from tests.accounts.test_sockets import _key, _login
from tests.clients import logged_in
from tests.factories import UserFactory

READ_ONLY = "NetworkManager is not running here (%(reason)s), so the interface settings are read-only."
# German is given words of the test's own (whatever the catalogue says), Chinese comes from the catalogue.
GERMAN = {
    "taking a checkpoint": "Sicherungspunkt wird angelegt",
    READ_ONLY: "NetworkManager läuft hier nicht (%(reason)s), die Schnittstellen sind daher schreibgeschützt.",
    "failed": "fehlgeschlagen",
}
REASON = "no system D-Bus to reach it on"  # the test settings' bus, where nothing listens


@pytest.fixture
def german(monkeypatch):
    catalog = trans_real.translation("de")
    original = catalog.gettext
    monkeypatch.setattr(catalog, "gettext", lambda message: GERMAN.get(message) or original(message))


def failed_change(user) -> NetworkChange:
    """A change the worker ran (in German) and failed: NetworkManager is not running here."""
    change = NetworkChange.objects.create(interface="eth0", method="auto", requested_by=user)
    with translation.override("de"):
        services.network_change_run(change_id=change.pk)
    change.refresh_from_db()
    return change


@pytest.mark.django_db
def test_a_failed_change_is_read_in_each_readers_language(admin_user, german):
    change = failed_change(admin_user)
    assert change.status == NetworkChange.Status.FAILED
    english = READ_ONLY % {"reason": REASON}
    with translation.override("zh-hans"):
        chinese = translation.gettext(READ_ONLY) % {"reason": REASON}
    assert chinese != english  # the catalogue has it
    for language, text in {"en": english, "de": GERMAN[READ_ONLY] % {"reason": REASON}, "zh-hans": chinese}.items():
        user_language_set(user=admin_user, language=language)
        assert logged_in(admin_user).get(f"/api/network/changes/{change.pk}/").json()["error"] == text
    user_language_set(user=admin_user, language="en")
    page = logged_in(admin_user).get("/network/").content.decode()
    assert english in page and "schreibgeschützt" not in page
    assert "\x1f" not in page  # never the stored form


@pytest.mark.django_db
def test_a_refusal_answers_in_the_callers_language(admin_user, german):
    user_language_set(user=admin_user, language="de")
    body = {"method": "auto", "dns": []}
    answer = logged_in(admin_user, stepped_up=True).post(
        "/api/network/interfaces/eth0/", json.dumps(body), content_type="application/json"
    )
    assert (answer.status_code, answer.json()["detail"]) == (409, GERMAN[READ_ONLY] % {"reason": REASON})


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_socket_says_the_step_in_its_users_language(redis_client, german):
    admin = UserFactory(admin=True, username="net-de")
    user_language_set(user=admin, language="de")
    client = _login(admin)
    change = NetworkChange.objects.create(interface="eth0", method="auto", step="taking a checkpoint")

    async def scenario():
        socket = WebsocketCommunicator(
            application,
            "/ws/network/",
            headers=[(b"host", b"testserver"), (b"cookie", f"sessionid={_key(client)}".encode())],
        )
        connected, _ = await socket.connect(timeout=5)
        assert connected
        try:
            await apublish(settings.NETWORK_GROUP, "network.change", change_event(change))
            return await socket.receive_json_from(timeout=5)
        finally:
            await socket.disconnect()

    data = async_to_sync(scenario)()["data"]
    assert data["step"] == "Sicherungspunkt wird angelegt"
    with translation.override("de"):
        assert data["status_label"] == shown("queued")
