"""The web server bounds request bodies before staging them (daphne writes every body to a temporary file on the
system disk before any login check runs). Raw sockets against the live server, as an attacker would send."""

import socket

import pytest
from django.conf import settings

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _exchange(live_stack, head: str, body_chunks=()) -> bytes:
    """Send a request head and then body chunks for as long as the server reads them; return what it answered."""
    with socket.create_connection(("127.0.0.1", live_stack.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server stopped reading, as it should
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except OSError:
            pass
    return answer


def test_a_declared_length_over_the_bound_is_refused_before_the_body(live_stack):
    huge = 10 * 1024**3
    answer = _exchange(
        live_stack,
        f"POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {huge}\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"Request body too large" in answer


def test_expect_continue_gets_the_refusal_not_a_go_ahead(live_stack):
    answer = _exchange(
        live_stack,
        "PATCH /api/files/uploads/x/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        f"Content-Length: {settings.MAX_REQUEST_BYTES + 1}\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"100 Continue" not in answer


def test_a_chunked_body_is_cut_off_once_it_passes_the_bound(live_stack):
    piece = 1024 * 1024
    count = settings.MAX_REQUEST_BYTES // piece + 8  # a few MiB past the bound; an attacker would never stop
    frame = f"{piece:x}\r\n".encode() + b"x" * piece + b"\r\n"
    answer = _exchange(
        live_stack,
        "POST /login/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        (frame for _ in range(count)),
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_a_body_within_the_bound_still_reaches_the_application(live_stack):
    body = b"username=nobody&password=x"
    answer = _exchange(
        live_stack,
        "POST /login/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n",
        [body],
    )
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]  # the application answered: CSRF, no cookie sent
