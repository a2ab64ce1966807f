"""splice_body: a request body from a real socket into a file inside the kernel (the web server runs it for tus
uploads, see tests/files/test_server.py for the whole path)."""

import os
import socket
import threading

from casaos_site.body_splice import splice_body

MIB = 1024 * 1024


def _pair():
    client, server = socket.socketpair()
    server.setblocking(False)  # as Twisted's sockets are
    return client, server


def _file(tmp_path, content: bytes = b""):
    path = tmp_path / "target.part"
    path.write_bytes(content)
    return path, os.open(path, os.O_RDWR)


def test_it_writes_what_the_server_had_then_the_rest_from_the_socket_at_the_offset(tmp_path):
    client, server = _pair()
    path, fd = _file(tmp_path, b"head")
    body = os.urandom(3 * MIB + 17)
    sender = threading.Thread(target=client.sendall, args=(body[1000:],))
    sender.start()
    result = splice_body(
        server.fileno(), fd, 4, len(body) - 1000, received=[body[:600], body[600:1000]], stop=threading.Event()
    )
    sender.join()
    os.close(fd)
    assert (result.received, result.moved, result.eof, result.error) == (1000, len(body) - 1000, False, None)
    assert path.read_bytes() == b"head" + body


def test_it_stops_at_the_count_and_leaves_the_next_request_in_the_socket(tmp_path):
    client, server = _pair()
    path, fd = _file(tmp_path)
    sender = threading.Thread(target=client.sendall, args=(b"x" * MIB + b"HEAD / HTTP/1.1\r\n\r\n",))
    sender.start()
    result = splice_body(server.fileno(), fd, 0, MIB, write_behind=True, stop=threading.Event())
    sender.join()
    os.close(fd)
    assert result.moved == MIB and path.stat().st_size == MIB
    assert server.recv(100) == b"HEAD / HTTP/1.1\r\n\r\n"


def test_a_client_that_closes_early_keeps_what_arrived(tmp_path):
    client, server = _pair()
    path, fd = _file(tmp_path)
    client.sendall(b"y" * 5000)
    client.close()
    result = splice_body(server.fileno(), fd, 0, MIB, stop=threading.Event())
    os.close(fd)
    assert (result.moved, result.eof, result.error) == (5000, True, None)
    assert path.read_bytes() == b"y" * 5000


def test_a_silent_client_is_given_up_after_the_idle_timeout_or_when_told_to_stop(tmp_path):
    client, server = _pair()
    _path, fd = _file(tmp_path)
    client.sendall(b"z" * 10)
    result = splice_body(server.fileno(), fd, 0, MIB, stop=threading.Event(), idle_timeout=0.5)
    assert (result.moved, result.eof) == (10, False)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    result = splice_body(server.fileno(), fd, 10, MIB, stop=stop, idle_timeout=60)
    os.close(fd)
    assert (result.moved, result.eof) == (0, False)
    client.close()


def test_a_file_that_cannot_be_written_is_reported_not_raised(tmp_path):
    client, server = _pair()
    path, _ = _file(tmp_path)
    readonly = os.open(path, os.O_RDONLY)
    client.sendall(b"w" * 4096)
    result = splice_body(server.fileno(), readonly, 0, 4096, received=[b"ab"], stop=threading.Event())
    os.close(readonly)
    assert isinstance(result.error, OSError) and (result.received, result.moved) == (0, 0)
    assert path.read_bytes() == b""


def test_a_file_system_that_refuses_spliced_pages_is_written_through_a_buffer(tmp_path):
    # splice(2) into a file opened for appending fails with EINVAL, as it does on file systems without
    # splice_write: the bytes must still arrive, in order.
    client, server = _pair()
    path, _ = _file(tmp_path, b"head")
    appending = os.open(path, os.O_WRONLY | os.O_APPEND)
    body = os.urandom(2 * MIB + 5)
    sender = threading.Thread(target=client.sendall, args=(body,))
    sender.start()
    result = splice_body(server.fileno(), appending, 4, len(body), stop=threading.Event())
    sender.join()
    os.close(appending)
    assert (result.moved, result.error) == (len(body), None)
    assert path.read_bytes() == b"head" + body
