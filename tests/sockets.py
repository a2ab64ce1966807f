"""A websocket client for a page's socket, as the browser opens it: with the session cookie of a logged-in client."""

import asyncio
import collections
import sys

from channels.testing import WebsocketCommunicator

from casaos_site.asgi import application
from tests.accounts.test_sockets import _key


def page_socket(path: str, client=None) -> WebsocketCommunicator:
    """`path` (e.g. "/ws/storage/") as the Django test `client`'s session would open it; anonymous without one."""
    headers = [(b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"sessionid={_key(client)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def report_stuck_tasks_after(seconds: float) -> asyncio.TimerHandle:
    """From inside a scenario: if it still runs after `seconds` (longer than all its bounded waits), print where
    the loop's tasks wait, one stack per distinct place with its count, so a hang says more than pytest-timeout's
    thread stacks. Cancel the returned handle when the scenario ends."""
    loop = asyncio.get_running_loop()

    def report():
        places = collections.defaultdict(list)
        for task in asyncio.all_tasks(loop):
            places[tuple((f.f_code.co_filename, f.f_lineno) for f in task.get_stack())].append(task)
        print(f"--- tasks still pending after {seconds} s, by where they wait", file=sys.stderr)
        for tasks in places.values():
            print(f"{len(tasks)} x", file=sys.stderr)
            tasks[0].print_stack(file=sys.stderr)

    return loop.call_later(seconds, report)
