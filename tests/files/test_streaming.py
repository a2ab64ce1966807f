"""tus PATCH bodies stream from the server's messages to the upload view (files/streaming.py), through the very
same middleware, authentication and permission checks as every request. Driven through the ASGI application
itself, with bodies split over several `http.request` messages as daphne sends them."""

import asyncio
import base64
import hashlib
import os
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from accounts.permissions import MFA_PENDING_SESSION_KEY
from accounts.services.tokens import api_token_create
from casaos_site.asgi import application
from casaos_site.body_sendfile import ZEROCOPY
from files.models import Upload
from files.services import upload_create
from files.services.ops import etag_of
from tests.factories import UserFactory
from tests.files.conftest import CSRF

pytestmark = [pytest.mark.django_db(transaction=True)]
MIB = 1024 * 1024


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]], query: bytes = b"") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ["127.0.0.1", 40000],
        "server": ["testserver", 80],
    }


def _call(path: str, headers: list[tuple[bytes, bytes]], parts: list[bytes], method: str = "PATCH", query: bytes = b""):
    """Run one request through the ASGI app; returns (status, headers, body). The app must finish cleanly."""

    async def run():
        app = ApplicationCommunicator(application, _scope(method, path, headers, query))
        for i, part in enumerate(parts or [b""]):
            await app.send_input({"type": "http.request", "body": part, "more_body": i < len(parts) - 1})
        start = await app.receive_output(20)
        body, sizes = b"", []
        while True:
            message = await app.receive_output(20)
            body += message.get("body", b"")
            sizes.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await app.wait(20)  # raises whatever the handler raised after the response (nothing, we assert)
        return start["status"], dict(start["headers"]), body, sizes

    return async_to_sync(run)()


def _session(user, *, mfa_pending: bool = False) -> str:
    client = Client()
    client.force_login(user)
    if mfa_pending:
        session = client.session
        session[MFA_PENDING_SESSION_KEY] = True
        session.save()
    return client.cookies["sessionid"].value


def _tus(
    offset: int,
    data: bytes,
    *,
    cookie: str | None = None,
    csrf: bool = True,
    token: str | None = None,
    checksum: bool = True,
) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"tus-resumable", b"1.0.0"),
        (b"upload-offset", str(offset).encode()),
        (b"content-type", b"application/offset+octet-stream"),
        (b"content-length", str(len(data)).encode()),
    ]
    if checksum:
        headers.append((b"upload-checksum", b"sha256 " + base64.b64encode(hashlib.sha256(data).digest())))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}; csrftoken={CSRF}".encode()))
        if csrf:
            headers.append((b"x-csrftoken", CSRF.encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return headers


def _split(data: bytes, *sizes: int) -> list[bytes]:
    parts, at = [], 0
    for size in sizes:
        parts.append(data[at : at + size])
        at += size
    return [*parts, data[at:]]


@pytest.fixture
def upload(member_user, root):
    return upload_create(user=member_user, directory="home", length=3 * MIB, metadata={"filename": "big.bin"})


def _partial_state(upload: Upload) -> tuple[int, int]:
    upload.refresh_from_db()
    return upload.offset, Path(upload.partial).stat().st_size


def test_it_streams_a_body_split_over_many_messages_into_the_partial_file(upload, member_user, root):
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB
    cookie = _session(member_user)
    url = f"/api/files/uploads/{upload.pk}/"
    first = data[: MIB + 7]
    status, headers, _body, _sizes = _call(url, _tus(0, first, cookie=cookie), _split(first, 1, 65536, 500_000))
    assert status == 204 and headers[b"Upload-Offset"] == str(MIB + 7).encode()
    rest = data[MIB + 7 :]
    status, headers, _body, _sizes = _call(url, _tus(MIB + 7, rest, cookie=cookie), _split(rest, 4096, MIB))
    assert status == 204 and headers[b"Upload-Offset"] == str(3 * MIB).encode()
    assert (root / "home" / member_user.username / "big.bin").read_bytes() == data


def test_the_view_writes_while_the_body_is_still_arriving(upload, member_user):
    data = b"s" * (2 * MIB)
    partial = Path(upload.partial)

    async def run():
        headers = _tus(0, data, cookie=_session(member_user))
        app = ApplicationCommunicator(application, _scope("PATCH", f"/api/files/uploads/{upload.pk}/", headers))
        await app.send_input({"type": "http.request", "body": data[:MIB], "more_body": True})
        # Django's own handler would not start the view before the last message: nothing would be written.
        for _ in range(400):
            if partial.stat().st_size == MIB:
                break
            await asyncio.sleep(0.05)
        written_before_the_rest = partial.stat().st_size
        await app.send_input({"type": "http.request", "body": data[MIB:], "more_body": False})
        start = await app.receive_output(20)
        await app.receive_output(20)
        await app.wait(20)
        return written_before_the_rest, start["status"]

    assert async_to_sync(run)() == (MIB, 204)
    assert partial.read_bytes() == data  # 2 of the upload's 3 MiB


def test_a_bad_checksum_over_a_streamed_body_leaves_the_partial_as_it_was(upload, member_user):
    data = b"x" * MIB
    headers = [h for h in _tus(0, data, cookie=_session(member_user)) if h[0] != b"upload-checksum"]
    headers.append((b"upload-checksum", b"sha256 " + base64.b64encode(hashlib.sha256(b"other").digest())))
    status, _headers, _body, _sizes = _call(f"/api/files/uploads/{upload.pk}/", headers, _split(data, 1000, 70000))
    assert status == 460
    assert _partial_state(upload) == (0, 0)


@pytest.mark.parametrize("who", ["anonymous", "no-csrf", "mfa-pending", "other-member", "read-token", "disabled"])
def test_the_streamed_path_refuses_what_every_request_refuses(upload, member_user, who):
    data = b"y" * MIB
    if who == "anonymous":
        headers = _tus(0, data)
    elif who == "no-csrf":
        headers = _tus(0, data, cookie=_session(member_user), csrf=False)
    elif who == "mfa-pending":
        headers = _tus(0, data, cookie=_session(member_user, mfa_pending=True))
    elif who == "other-member":
        headers = _tus(0, data, cookie=_session(UserFactory(username="intruder")))
    elif who == "read-token":
        headers = _tus(0, data, token=api_token_create(user=member_user, name="ro", scope="read")[1])
    else:
        cookie = _session(member_user)
        member_user.is_active = False
        member_user.save()
        headers = _tus(0, data, cookie=cookie)
    status, _headers, _body, _sizes = _call(f"/api/files/uploads/{upload.pk}/", headers, _split(data, 4096))
    assert status in (401, 403, 404)
    assert _partial_state(upload) == (0, 0)  # nothing written


def test_a_full_api_token_uploads_through_the_streamed_path(upload, member_user, root):
    token = api_token_create(user=member_user, name="sync", scope="full")[1]
    data = b"z" * (3 * MIB)
    status, headers, _body, _sizes = _call(
        f"/api/files/uploads/{upload.pk}/", _tus(0, data, token=token), _split(data, MIB, MIB)
    )
    assert status == 204 and headers[b"Upload-Offset"] == str(3 * MIB).encode()
    assert (root / "home" / member_user.username / "big.bin").read_bytes() == data


def test_other_requests_keep_django_s_spooled_body(admin_user, root):
    # A text save (PUT, JSON) is not streamed: its body still arrives whole, in several messages.
    (root / "note.txt").write_text("old")
    cookie = _session(admin_user)
    payload = b'{"content": "new text"}'
    headers = [
        (b"content-type", b"application/json"),
        (b"cookie", f"sessionid={cookie}; csrftoken={CSRF}".encode()),
        (b"x-csrftoken", CSRF.encode()),
        (b"content-length", str(len(payload)).encode()),
        (b"if-match", f'"{etag_of(root / "note.txt")}"'.encode()),
    ]
    status, _headers, body, _sizes = _call(
        "/api/files/content/", headers, _split(payload, 5, 3), method="PUT", query=b"path=note.txt"
    )
    assert status == 200, body
    assert (root / "note.txt").read_text() == "new text"


def test_downloads_go_out_in_large_messages(admin_user, root):
    data = bytes(range(251)) * 40_000  # ~9.6 MiB, not a multiple of any block
    (root / "big.bin").write_bytes(data)
    headers = [(b"cookie", f"sessionid={_session(admin_user)}".encode())]
    status, _headers, body, sizes = _call("/api/files/content/", headers, [b""], method="GET", query=b"path=big.bin")
    assert status == 200 and body == data
    assert max(sizes) == 4 * MIB  # whole blocks, not Django's 64 KiB slices
    status, _headers, body, _sizes = _call(
        "/api/files/content/", [*headers, (b"range", b"bytes=5000000-")], [b""], method="GET", query=b"path=big.bin"
    )
    assert status == 206 and body == data[5_000_000:]


def _zerocopy_call(headers: list[tuple[bytes, bytes]], query: bytes, method: str = "GET") -> tuple[list[dict], bytes]:
    """One request through the ASGI app as a server offering sendfile sees it: the messages it sent, and the bytes
    a zerocopysend asked for, read from its file at once (as the server does before the app closes it)."""
    scope = {**_scope(method, "/api/files/content/", headers, query), "extensions": {ZEROCOPY: {}}}
    sent, read = [], b""

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.sleep(3600)  # no disconnect while the response goes out (Django cancels this wait)
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal read
        sent.append(message)
        if message["type"] == ZEROCOPY:
            read += os.pread(message["file"].fileno(), message["count"], message["offset"])

    async_to_sync(application)(scope, receive, send)
    return sent, read


def test_a_file_range_goes_out_through_sendfile_where_the_server_offers_it(admin_user, root):
    data = bytes(range(251)) * 40_000
    (root / "big.bin").write_bytes(data)
    headers = [(b"cookie", f"sessionid={_session(admin_user)}".encode()), (b"range", b"bytes=5000000-")]
    sent, read = _zerocopy_call(headers, b"path=big.bin")
    assert [m["type"] for m in sent] == ["http.response.start", ZEROCOPY]
    assert sent[0]["status"] == 206 and (b"Content-Length", str(len(data) - 5_000_000).encode()) in sent[0]["headers"]
    assert sent[1]["offset"] == 5_000_000 and sent[1]["more_body"] is False
    assert read == data[5_000_000:]


def test_a_head_or_a_refused_download_never_sends_a_file(admin_user, member_user, root):
    (root / "big.bin").write_bytes(b"x" * 1000)
    sent, _read = _zerocopy_call([(b"cookie", f"sessionid={_session(admin_user)}".encode())], b"path=big.bin", "HEAD")
    assert ZEROCOPY not in [m["type"] for m in sent] and sent[0]["status"] == 200
    sent, _read = _zerocopy_call([(b"cookie", f"sessionid={_session(member_user)}".encode())], b"path=big.bin")
    assert ZEROCOPY not in [m["type"] for m in sent] and sent[0]["status"] in (403, 404)
