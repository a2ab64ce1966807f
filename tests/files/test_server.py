"""The web server as `make run` starts it (manage.py serve): large downloads wait for the client instead of
piling up in the server's memory, and large uploads and Range requests come through whole."""

import base64
import hashlib
import http.client
import os
import socket
import time
from urllib.parse import urlsplit

import psutil
import pytest
from django.test import Client

from casaos_site.webserver import SOCKET_READ
from tests.files.conftest import CSRF

pytestmark = [pytest.mark.stack, pytest.mark.redis]
MIB = 1024 * 1024


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _rss(server) -> int:
    return psutil.Process(server.proc.pid).memory_info().rss


def test_a_slow_reader_does_not_make_the_server_hold_the_whole_file(server, admin_user, root):
    data = os.urandom(MIB) * 192  # 192 MiB; without back-pressure the server buffers all of it at once
    (root / "big.bin").write_bytes(data)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/api/files/content/?path=big.bin", headers={"Cookie": f"sessionid={_cookie(admin_user)}"})
    response = conn.getresponse()
    assert response.status == 200
    before = _rss(server)
    first = response.read(MIB)
    peak = before
    for _ in range(10):  # the client reads nothing for a second: the server must wait, not read ahead
        time.sleep(0.1)
        peak = max(peak, _rss(server))
    assert peak - before < 48 * MIB, f"the server grew by {(peak - before) // MIB} MiB for a stalled download"
    digest = hashlib.sha256(first)
    while block := response.read(4 * MIB):
        digest.update(block)
    assert digest.digest() == hashlib.sha256(data).digest()


def test_range_requests_and_a_streamed_upload_come_through_the_real_server(server, admin_user, root):
    cookie = _cookie(admin_user)
    data = os.urandom(9 * MIB + 123)
    meta = f"filename {base64.b64encode(b'up.bin').decode()},path "
    created = server.request(
        cookie,
        "POST",
        "/api/files/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta},
    )
    assert created.status == 201
    url = urlsplit(created.getheader("Location")).path
    done = server.request(
        cookie,
        "PATCH",
        url,
        data,
        {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode(),
        },
    )
    assert done.status == 204 and done.getheader("Upload-Offset") == str(len(data))
    assert (root / "up.bin").read_bytes() == data
    part = server.request(cookie, "GET", "/api/files/content/?path=up.bin", headers={"Range": "bytes=4194000-8388700"})
    assert part.status == 206 and part.body == data[4194000:8388701]
    head = server.request(cookie, "HEAD", "/api/files/content/?path=up.bin")
    assert head.status == 200 and head.getheader("Content-Length") == str(len(data)) and head.body == b""


def test_a_file_that_shrinks_mid_download_cuts_the_connection_never_sends_wrong_bytes(server, admin_user, root):
    # The body leaves through sendfile(2): once the file ends before the promised Content-Length, the server must
    # close the connection (the client sees a short body) rather than leave the client waiting for the rest.
    data = os.urandom(MIB) * 64
    (root / "shrinks.bin").write_bytes(data)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/api/files/content/?path=shrinks.bin", headers={"Cookie": f"sessionid={_cookie(admin_user)}"})
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Length") == str(len(data))
    got = response.read(MIB)
    os.truncate(root / "shrinks.bin", 2 * MIB)
    try:
        while block := response.read1(4 * MIB):
            got += block
    except (ConnectionError, http.client.IncompleteRead):
        pass  # cut off, as it must be
    assert 2 * MIB <= len(got) < len(data)
    assert got == data[: len(got)]
    assert server.request(_cookie(admin_user), "HEAD", "/api/files/content/?path=shrinks.bin").status == 200


# ---------------------------------------------------------------------------- streamed PATCH bodies
def _create(server, cookie, length: int, name: str) -> str:
    meta = f"filename {base64.b64encode(name.encode()).decode()},path "
    created = server.request(
        cookie,
        "POST",
        "/api/files/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(length), "Upload-Metadata": meta},
    )
    assert created.status == 201, created.body
    return urlsplit(created.getheader("Location")).path


def _patch_head(server, cookie: str, url: str, offset: int, length: int | None, extra: str = "") -> socket.socket:
    """A PATCH whose headers (plus `extra` header lines) are sent, chunked when `length` is None; the body is the
    caller's to send (or not)."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        (
            f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}; csrftoken={CSRF}\r\n"
            f"X-CSRFToken: {CSRF}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\n{framing}\r\n{extra}\r\n"
        ).encode()
    )
    return sock


def _partial(root) -> "os.PathLike":
    (part,) = root.glob(".casaos-upload-*.part")
    return part


def _until(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        if b"\r\n\r\n" in data:
            break
    return data


def test_a_patch_body_reaches_the_target_disk_while_it_is_still_being_sent(server, admin_user, root):
    # daphne alone would stage the whole body in a temporary file on the system disk and start the view only once
    # it is complete; here the first half must be in the partial file while the second half is not even sent.
    cookie = _cookie(admin_user)
    data = os.urandom(8 * MIB)
    url = _create(server, cookie, len(data), "streamed.bin")
    sock = _patch_head(server, cookie, url, 0, len(data))
    sock.sendall(data[: 4 * MIB])
    # Most of it, not all: the view's file object may still hold the last small piece in its buffer.
    _until(lambda: _partial(root).stat().st_size >= 3 * MIB)
    sock.sendall(data[4 * MIB :])
    answer = _answer(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 204"), answer
    assert f"Upload-Offset: {len(data)}".encode() in answer
    assert (root / "streamed.bin").read_bytes() == data
    # The connection stays usable for the next request (keep-alive), as with any other request.


def test_a_refused_patch_is_answered_before_its_body_and_the_connection_closes(server, admin_user, root):
    cookie = _cookie(admin_user)
    url = _create(server, cookie, 8 * MIB, "refused.bin")
    sock = _patch_head(server, cookie, url, 12345, 8 * MIB)  # the wrong offset: nothing may be written
    sock.settimeout(10)
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 409"), answer
    assert b"connection: close" in answer.lower()
    sock.close()
    assert _partial(root).stat().st_size == 0


def test_a_client_gone_mid_body_keeps_what_arrived_and_resumes(server, admin_user, root):
    cookie = _cookie(admin_user)
    data = os.urandom(6 * MIB)
    url = _create(server, cookie, len(data), "resumed.bin")
    sock = _patch_head(server, cookie, url, 0, len(data))
    sock.sendall(data[: 3 * MIB])
    _until(lambda: _partial(root).stat().st_size >= 2 * MIB)  # the view is writing (its buffer may hold the rest)
    sock.close()  # the network drops

    def offset() -> int:
        head = server.request(cookie, "HEAD", url, headers={"Tus-Resumable": "1.0.0"})
        assert head.status == 200
        return int(head.getheader("Upload-Offset"))

    # The view notices the drop, syncs what it wrote and records it: what arrived is kept, and only that.
    _until(lambda: offset() > 0)
    offset = offset()
    assert offset == 3 * MIB
    done = server.request(
        cookie,
        "PATCH",
        url,
        data[offset:],
        {"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
    )
    assert done.status == 204, done.body
    assert (root / "resumed.bin").read_bytes() == data


def test_a_chunked_patch_past_the_bound_is_refused_and_keeps_what_arrived(server, admin_user, root, settings):
    cookie = _cookie(admin_user)
    length = settings.MAX_REQUEST_BYTES + 8 * MIB
    url = _create(server, cookie, length, "chunked.bin")
    sock = _patch_head(server, cookie, url, 0, None)
    frame = f"{MIB:x}\r\n".encode() + b"y" * MIB + b"\r\n"
    try:
        for _ in range(length // MIB):
            sock.sendall(frame)
    except OSError:
        pass  # the server stopped reading once the body passed the bound
    answer = _answer(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert answer.count(b"HTTP/1.1") == 1  # the view's own answer never follows the server's

    def offset() -> int:
        return int(server.request(cookie, "HEAD", url, headers={"Tus-Resumable": "1.0.0"}).getheader("Upload-Offset"))

    _until(lambda: offset() > 0)  # the view still writes and syncs what it had when the server refused
    assert offset() <= settings.MAX_REQUEST_BYTES  # what arrived before the bound is kept, nothing beyond it
    assert _partial(root).stat().st_size == offset()


# ---------------------------------------------------------------------------- the kernel data path (splice)
def _written_by(server) -> int:
    """Bytes the server process has passed to write()/pwrite() so far (splice(2) is not counted)."""
    return psutil.Process(server.proc.pid).io_counters().write_chars


def test_a_patch_body_goes_from_the_socket_to_the_file_without_passing_through_python(server, admin_user, root):
    cookie = _cookie(admin_user)
    data = os.urandom(32 * MIB)
    url = _create(server, cookie, len(data), "kernel.bin")
    before = _written_by(server)
    done = server.request(
        cookie,
        "PATCH",
        url,
        data,
        {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert done.status == 204, done.body
    # The server holds the body until the view asks for it: only what came in with the headers (one socket read
    # at most) is written by Python; the rest goes socket -> file in the kernel. Reading ahead while the view
    # checks the request would put up to STREAM_AHEAD pieces through Python; a copy, all 32 MiB.
    assert _written_by(server) - before < SOCKET_READ + MIB
    assert (root / "kernel.bin").read_bytes() == data


def test_a_patch_with_a_checksum_is_read_by_python_to_verify_it(server, admin_user, root):
    cookie = _cookie(admin_user)
    data = os.urandom(8 * MIB)
    url = _create(server, cookie, len(data), "checked.bin")
    before = _written_by(server)
    checksum = "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()
    headers = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    wrong = server.request(
        cookie,
        "PATCH",
        url,
        data,
        {**headers, "Upload-Offset": "0", "Upload-Checksum": "sha256 " + base64.b64encode(b"0" * 32).decode()},
    )
    assert wrong.status == 460 and _partial(root).stat().st_size == 0
    done = server.request(cookie, "PATCH", url, data, {**headers, "Upload-Offset": "0", "Upload-Checksum": checksum})
    assert done.status == 204, done.body
    assert _written_by(server) - before >= 16 * MIB  # both bodies went through the view's writes
    assert (root / "checked.bin").read_bytes() == data


def test_after_a_spliced_body_the_connection_carries_the_next_pipelined_request(server, admin_user, root):
    # The next request is sent right behind the body: the splice must take exactly the body's bytes and leave
    # the rest to the server's parser, on the same keep-alive connection.
    cookie = _cookie(admin_user)
    data = os.urandom(4 * MIB)
    url = _create(server, cookie, 2 * len(data), "pipelined.bin")
    sock = _patch_head(server, cookie, url, 0, len(data))
    head = f"HEAD {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\nTus-Resumable: 1.0.0\r\n\r\n"
    sock.sendall(data + head.encode())
    answers = b""
    while answers.count(b"HTTP/1.1 ") < 2 or not answers.endswith(b"\r\n\r\n"):
        chunk = sock.recv(65536)
        assert chunk, answers
        answers += chunk
    sock.close()
    first, second = answers.split(b"HTTP/1.1 ")[1:3]
    assert first.startswith(b"204") and f"Upload-Offset: {len(data)}".encode() in first, answers
    assert second.startswith(b"200") and f"Upload-Offset: {len(data)}".encode() in second, answers
    assert _partial(root).read_bytes() == data


def test_one_patch_may_carry_a_whole_large_file_and_only_what_the_upload_expects(server, admin_user, root, settings):
    # tus clients send a whole file in one PATCH unless told to chunk: the body streams into the partial file,
    # so the server's bound on staged bodies does not apply; the upload's own length (its free space was checked
    # when it was created) does, before a byte is written.
    cookie = _cookie(admin_user)
    data = os.urandom(settings.MAX_REQUEST_BYTES + MIB)
    url = _create(server, cookie, len(data) - 1, "whole.bin")
    sock = _patch_head(server, cookie, url, 0, len(data))  # one byte more than the upload expects
    sock.settimeout(10)
    answer = _answer(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert _partial(root).stat().st_size == 0
    url = _create(server, cookie, len(data), "whole.bin")
    headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    done = server.request(cookie, "PATCH", url, data, headers)
    assert done.status == 204, done.body
    assert (root / "whole.bin").read_bytes() == data


@pytest.fixture
def no_reserve(monkeypatch):
    """The server started after this keeps no free-space reserve (4 MiB disks are all reserve otherwise)."""
    monkeypatch.setenv("CASAOS_FILES_FREE_SPACE_RESERVE", "0")


def test_a_disk_that_fills_up_during_a_spliced_patch_gets_507_and_keeps_the_offset(
    no_reserve, server, admin_user, small_disk
):
    # The free space was there when the upload was created; something else took it before the bytes came.
    cookie = _cookie(admin_user)
    data = os.urandom(3 * MIB)
    meta = f"filename {base64.b64encode(b'late.bin').decode()},path {base64.b64encode(b'small').decode()}"
    headers = {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta}
    created = server.request(cookie, "POST", "/api/files/uploads/", headers=headers)
    assert created.status == 201, created.body
    url = urlsplit(created.getheader("Location")).path
    (small_disk / "filler.bin").write_bytes(b"f" * (3 * MIB))
    patch = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    answer = server.request(cookie, "PATCH", url, data, patch)
    assert answer.status == 507, answer.body
    assert b"No space left" in answer.body
    (part,) = small_disk.glob(".casaos-upload-*.part")
    assert part.stat().st_size == 0  # nothing half-written
    head = server.request(cookie, "HEAD", url, headers={"Tus-Resumable": "1.0.0"})
    assert head.getheader("Upload-Offset") == "0"
    (small_disk / "filler.bin").unlink()  # space again: the same upload goes through
    assert server.request(cookie, "PATCH", url, data, patch).status == 204
    assert (small_disk / "late.bin").read_bytes() == data


def test_expect_continue_is_answered_only_once_the_view_accepts_the_patch(server, admin_user, root):
    # A client that asks first (curl does, for bodies over 1 MiB) is told to send only when the view wants the
    # body: a refused PATCH gets its refusal instead of "100 Continue", and never sends a byte.
    cookie = _cookie(admin_user)
    data = os.urandom(2 * MIB)
    url = _create(server, cookie, len(data), "asked.bin")
    expect = "Expect: 100-continue\r\n"
    refused = _patch_head(server, cookie, url, 999, len(data), expect)
    answer = _answer(refused)
    refused.close()
    assert answer.startswith(b"HTTP/1.1 409"), answer
    assert b"100 Continue" not in answer
    checked = _create(server, cookie, len(data), "checked.bin")
    checksum = "Upload-Checksum: sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode() + "\r\n"
    for url, extra, name in ((url, "", "asked.bin"), (checked, checksum, "checked.bin")):  # spliced, then read
        accepted = _patch_head(server, cookie, url, 0, len(data), expect + extra)
        go_ahead = _answer(accepted)
        assert go_ahead.startswith(b"HTTP/1.1 100 Continue"), go_ahead
        accepted.sendall(data)
        answer = _answer(accepted)
        accepted.close()
        assert answer.startswith(b"HTTP/1.1 204"), answer
        assert (root / name).read_bytes() == data


def test_requests_after_a_patch_read_by_the_view_on_the_same_connection_are_served(server, admin_user, root):
    # The view asks for the body from its own thread (a checksum makes it read the body itself). What the server
    # does for it (read the socket again) must not carry that thread's context: the connection's next requests
    # would inherit the view's executor, gone by then, and answer 500 before reaching any view.
    cookie = _cookie(admin_user)
    data = b"x" * 100
    url = _create(server, cookie, len(data), "then.bin")
    headers = {"Cookie": f"sessionid={cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF, "Tus-Resumable": "1.0.0"}
    patch = {
        **headers,
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode(),
    }
    mkdir = {**headers, "Content-Type": "application/json"}
    requests = [
        ("PATCH", url, data, patch),
        ("PATCH", url, data, patch),  # complete already: refused before its body is read
        *[("POST", "/api/files/mkdir/", f'{{"path": "", "name": "d{n}"}}', mkdir) for n in range(3)],
        ("GET", "/api/files/", None, headers),
    ]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    statuses = []
    for method, path, body, head in requests:
        conn.request(method, path, body=body, headers=head)
        answer = conn.getresponse()
        answer.read()
        statuses.append(answer.status)
    conn.close()
    assert statuses == [204, 403, 201, 201, 201, 200]
