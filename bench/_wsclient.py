"""Many dashboard websocket clients in one cheap process: plain asyncio streams, no websocket library.

    python -m bench._wsclient HOST:PORT COOKIE CLIENTS SECONDS [WARMUP]

Opens CLIENTS sockets on /ws/system/ together (as a burst of browsers would), reads frames for SECONDS after a
WARMUP, and prints one JSON line: how many connected, the close codes of those refused, frames received and the
delay of each frame from its sample's time (`data-sample-time` in the fragment) to its receipt, in ms.
It runs as a process of its own so its CPU is never counted as the stack's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import sys
import time

PATH = "/ws/system/"
SAMPLE_TIME = re.compile(rb'data-sample-time="([0-9.]+)"')
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class Refused(Exception):
    """The server did not upgrade the connection, or closed it straight away (code in args)."""


async def connect(host: str, port: int, cookie: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"101":
        writer.close()
        raise Refused(f"http {status.decode()}")
    return reader, writer


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(length)


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; payloads here are short control frames)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


async def client(host: str, port: int, cookie: str, until: float, warmup_end: float, delays: list, result: dict):
    try:
        reader, writer = await connect(host, port, cookie)
    except (Refused, OSError, asyncio.IncompleteReadError) as exc:
        result["refused"].append(str(exc))
        return
    result["connected"] += 1
    try:
        await _read_until(reader, writer, until, warmup_end, delays, result)
    finally:
        writer.close()


async def _read_until(reader, writer, until: float, warmup_end: float, delays: list, result: dict) -> None:
    while time.time() < until:
        try:
            opcode, payload = await asyncio.wait_for(read_frame(reader), timeout=max(0.1, until - time.time()))
        except TimeoutError:
            return
        except (asyncio.IncompleteReadError, OSError):
            result["dropped"] += 1
            result["dropped_at"].append(round(time.time() - result["started"]))
            return
        received = time.time()
        if opcode == PING:
            writer.write(masked_frame(PONG, payload))
        elif opcode == CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            result["refused"].append(f"close {code}")
            return
        elif opcode == TEXT and (match := SAMPLE_TIME.search(payload)):
            result["frames"] += 1
            if received >= warmup_end:
                delays.append((received - float(match.group(1))) * 1000)


async def run(bind: str, cookie: str, clients: int, seconds: float, warmup: float) -> dict:
    host, port = bind.rsplit(":", 1)
    start = time.time()
    delays: list[float] = []
    result = {"clients": clients, "connected": 0, "refused": [], "dropped": 0, "dropped_at": [], "frames": 0}
    result["started"] = start
    until, warmup_end = start + warmup + seconds, start + warmup
    await asyncio.gather(*(client(host, int(port), cookie, until, warmup_end, delays, result) for _ in range(clients)))
    result["delays_ms"] = [round(d, 1) for d in delays]
    return result


def main(argv: list[str]) -> None:
    bind, cookie, clients, seconds = argv[0], argv[1], int(argv[2]), float(argv[3])
    warmup = float(argv[4]) if len(argv) > 4 else 5.0
    print(json.dumps(asyncio.run(run(bind, cookie, clients, seconds, warmup))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
