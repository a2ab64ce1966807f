"""Websockets live no longer than their session: every way of ending a session closes its sockets at once."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.consumers import SESSION_ENDED_CODE, SessionBoundConsumer
from accounts.models import User, UserSession
from accounts.services.mfa import mfa_remove
from accounts.services.sessions import session_end
from accounts.services.users import user_delete, user_update
from casaos_site.asgi import application
from casaos_site.routing import websocket_urlpatterns
from storage.consumers import SystemConsumer
from tests.accounts.conftest import give_mfa, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# One socket of each app that needs no container to open.
PATHS = ["/ws/system/", "/ws/appstore/stores/", "/ws/files/", "/ws/apps/", "/ws/apps/live/", "/ws/storage/"]


def _login(user) -> Client:
    """A browser session made through the real login form (so it is recorded like any other)."""
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    return client


def _key(client) -> str:
    return client.cookies["sessionid"].value


# Every communicator a scenario makes; _run disconnects them all, or a consumer left waiting on the Redis layer in a
# finished event loop breaks the next test's sockets ("bound to a different event loop").
OPENED: list[WebsocketCommunicator] = []


def _communicator(app, path: str, **kwargs) -> WebsocketCommunicator:
    OPENED.append(communicator := WebsocketCommunicator(app, path, **kwargs))
    return communicator


async def _open(client, path: str = "/ws/system/") -> WebsocketCommunicator:
    headers = [(b"cookie", f"sessionid={_key(client)}".encode()), (b"host", b"testserver")]
    communicator = _communicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"{path} refused the socket ({code})"
    return communicator


async def _close_code(communicator) -> int | None:
    """The close code the server sends next, skipping data frames (other tests' samplers may publish stats)."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output.get("code")


async def _close_code_within(communicator, seconds: float) -> int | None:
    # receive_nothing, not receive_output: a timed-out receive_output cancels the consumer.
    while not await communicator.receive_nothing(timeout=seconds):
        output = await communicator.receive_output()
        if output["type"] == "websocket.close":
            return output.get("code")
    return None


def _run(scenario):
    async def scenario_then_disconnect():
        try:
            return await scenario()
        finally:
            while OPENED:
                await OPENED.pop().disconnect()

    return async_to_sync(scenario_then_disconnect)()


def _sync(fn, *args, **kwargs):
    return database_sync_to_async(fn)(*args, **kwargs)


@pytest.fixture
def admin(redis_client):
    return UserFactory(admin=True, username="sockadmin")


@pytest.mark.parametrize("path", PATHS)
def test_it_closes_every_socket_of_a_session_at_logout(admin, path):
    client = _login(admin)

    async def scenario():
        sockets = [await _open(client, path), await _open(client, "/ws/system/")]
        response = await _sync(client.post, "/logout/")
        assert response.status_code == 302
        return [await _close_code(s) for s in sockets]

    assert _run(scenario) == [SESSION_ENDED_CODE, SESSION_ENDED_CODE]
    assert "_auth_user_id" not in client.session


def test_it_closes_the_sockets_of_a_session_ended_from_the_sessions_page(admin):
    phone, laptop = _login(admin), _login(admin)

    async def scenario():
        phone_socket, laptop_socket = await _open(phone), await _open(laptop)
        assert await _sync(session_end, user=admin, session_key=_key(phone))
        closed = await _close_code(phone_socket)
        assert await _close_code_within(laptop_socket, 0.5) is None, "another session's socket was closed"
        return closed

    assert _run(scenario) == SESSION_ENDED_CODE
    assert not SessionStore().exists(_key(phone)) and SessionStore().exists(_key(laptop))


def test_a_password_change_closes_the_other_sessions_sockets_and_keeps_its_own(admin):
    phone, laptop = _login(admin), _login(admin)
    new = "another long passphrase 42"

    async def scenario():
        phone_socket, laptop_socket = await _open(phone), await _open(laptop)
        response = await _sync(
            laptop.post, "/settings/", {"old_password": PASSWORD, "password1": new, "password2": new}
        )
        assert response.status_code == 302
        assert await _close_code(phone_socket) == SESSION_ENDED_CODE
        assert await _close_code_within(laptop_socket, 0.5) is None
        # The password change cycled the laptop's session key: its socket still belongs to that session.
        await _sync(laptop.post, "/logout/")
        return await _close_code(laptop_socket)

    assert _run(scenario) == SESSION_ENDED_CODE


def test_disabling_a_user_closes_their_sockets(admin):
    member = UserFactory(username="sockmember")
    client = _login(member)

    async def scenario():
        socket = await _open(client, "/ws/files/")
        await _sync(user_update, actor=admin, user=member, role=User.Role.MEMBER, is_active=False, email="")
        return await _close_code(socket)

    assert _run(scenario) == SESSION_ENDED_CODE
    assert not UserSession.objects.filter(user=member).exists()


def test_a_demoted_admin_loses_the_open_admin_socket_but_keeps_the_session(admin):
    # A socket checks the user it loaded on connect: only a new socket sees the new role.
    deputy = UserFactory(admin=True, username="deputy")
    client = _login(deputy)

    async def scenario():
        socket = await _open(client, "/ws/appstore/stores/")
        await _sync(user_update, actor=admin, user=deputy, role=User.Role.MEMBER, is_active=True, email="")
        return await _close_code(socket)

    assert _run(scenario) == SESSION_ENDED_CODE
    assert SessionStore().exists(_key(client))
    assert client.get("/appstore/stores/").status_code == 403


def test_deleting_a_user_closes_their_sockets(admin):
    member = UserFactory(username="sockgone")
    client = _login(member)

    async def scenario():
        socket = await _open(client, "/ws/apps/live/")
        await _sync(user_delete, actor=admin, user=member)
        return await _close_code(socket)

    assert _run(scenario) == SESSION_ENDED_CODE


def test_an_admin_removing_someones_mfa_closes_their_sockets(admin):
    member = UserFactory(username="sockphone")
    key = give_mfa(member)
    client = _login(member)
    assert client.post("/accounts/login/otp/", {"code": totp_code(key), "next": "/"}).status_code == 302

    async def scenario():
        socket = await _open(client, "/ws/system/")
        await _sync(mfa_remove, user=member, actor=admin)
        return await _close_code(socket)

    assert _run(scenario) == SESSION_ENDED_CODE
    assert not SessionStore().exists(_key(client))


def test_a_socket_whose_session_ended_while_it_connected_is_refused(admin):
    # The auth middleware loaded the session, then it ended before the consumer joined its group.
    client = _login(admin)
    session = SessionStore(session_key=_key(client))
    session.items()  # loaded, as the auth middleware leaves it
    session.delete()

    async def scenario():
        communicator = _communicator(SystemConsumer.as_asgi(), "/ws/system/")
        communicator.scope.update({"user": admin, "session": session})
        return await communicator.connect(timeout=5)

    assert _run(scenario) == (False, SESSION_ENDED_CODE)


def test_every_websocket_route_is_bound_to_its_session():
    """A new consumer must close with its session too: its class derives from SessionBoundConsumer."""
    unbound = [
        str(route.pattern)
        for route in websocket_urlpatterns
        if not issubclass(route.callback.consumer_class, SessionBoundConsumer)
    ]
    assert unbound == []
