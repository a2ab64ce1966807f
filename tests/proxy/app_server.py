"""A small app on a local port, standing in for an app's published web port: it answers with the headers it got,
counts and hashes an upload as it streams in, and echoes the bytes of an upgraded (websocket) connection."""

from __future__ import annotations

import base64
import hashlib
import json
import socketserver
import threading

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        head = self._head()
        if head is None:
            return None
        line, headers = head
        method, path, _version = line.split(" ", 2)
        if headers.get("upgrade", "").lower() == "websocket":
            return self._websocket(headers)
        if method == "POST":
            return self._upload(headers)
        # An app that sets cookies on the admin's origin when reached by a path: one of its own, one of ours.
        cookies = ["sessionid=planted; Path=/", "theirs=2; Path=/"] if "set-cookies" in path else []
        return self._reply(200, {"path": path, "method": method, "headers": headers}, cookies)

    def _head(self):
        line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            return None
        headers: dict[str, str] = {}
        while (raw := self.rfile.readline().decode("latin-1").rstrip("\r\n")) != "":
            name, _, value = raw.partition(":")
            headers[name.strip().lower()] = value.strip()
        return line, headers

    def _reply(self, status: int, body: dict, cookies: list[str] = ()) -> None:
        data = json.dumps(body).encode()
        head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"Set-Cookie: {cookie}\r\n" for cookie in cookies)
        self.wfile.write((head + "Connection: close\r\n\r\n").encode() + data)

    def _upload(self, headers: dict[str, str]) -> None:
        digest, size = hashlib.sha256(), 0
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while (length := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                chunk = self.rfile.read(length)
                self.rfile.readline()
                digest.update(chunk)
                size += len(chunk)
            self.rfile.readline()
        else:
            remaining = int(headers.get("content-length", "0"))
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                digest.update(chunk)
                size += len(chunk)
                remaining -= len(chunk)
        self._reply(200, {"size": size, "sha256": digest.hexdigest()})

    def _websocket(self, headers: dict[str, str]) -> None:
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + WS_GUID).encode()).digest()).decode()
        self.wfile.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self.wfile.flush()
        while chunk := self.request.recv(65536):  # the tunnel carries bytes both ways: echo them
            self.request.sendall(chunk)


class AppServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
