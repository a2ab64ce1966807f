"""The update check: off by default, a real HTTP feed when set, bounded in time and size, and never an update that
cannot be checked (no sha256)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from system.releases import release_check
from tests.system.conftest import client_for

DIGEST = "ab" * 32


class Feed(BaseHTTPRequestHandler):
    body = b""
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed(settings):
    """A local release feed; returns a function that sets what it serves (and how slowly)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SYSTEM_RELEASE_FEED_URL = f"http://127.0.0.1:{server.server_port}/releases.json"
    settings.SYSTEM_RELEASE_TIMEOUT = 1

    def serve(document, delay=0.0):
        Feed.body = document if isinstance(document, bytes) else json.dumps(document).encode()
        Feed.delay = delay

    yield serve
    server.shutdown()
    server.server_close()


def release(version, **fields):
    return {"version": version, "notes": f"What is new in {version}", "url": f"https://x/{version}.tgz", **fields}


def test_it_is_off_without_a_feed(settings):
    settings.SYSTEM_RELEASE_FEED_URL = ""
    found = release_check()
    assert found.enabled is False and found.newer is False and found.current == settings.CASAOS_VERSION


def test_it_offers_the_newest_release_with_its_digest(feed):
    feed(
        {
            "releases": [
                release("0.1.0", sha256=DIGEST),
                release("0.3.0", sha256=DIGEST),
                release("0.2.0", sha256=DIGEST),
            ]
        }
    )
    found = release_check(fresh=True)
    assert found.newer and found.version == "0.3.0" and found.sha256 == DIGEST
    assert found.notes == "What is new in 0.3.0"


def test_a_release_it_could_not_check_is_never_offered(feed):
    feed({"releases": [release("9.0.0"), release("8.0.0", sha256="not-hex"), release("0.2.0", sha256=DIGEST)]})
    assert release_check(fresh=True).version == "0.2.0"


def test_nothing_newer_says_so(feed):
    feed({"releases": [release("0.0.9", sha256=DIGEST), {"version": "junk"}, "nonsense"]})
    found = release_check(fresh=True)
    assert found.enabled and not found.newer and not found.error


@pytest.mark.parametrize(
    "document", [b"<html>", b"[]", json.dumps({"releases": "all"}).encode(), b"x" * (1024**2 + 10)]
)
def test_a_bad_feed_is_an_error_not_a_crash(feed, document):
    feed(document)
    assert release_check(fresh=True).error


def test_a_feed_that_does_not_answer_is_given_up_on_time(feed):
    feed({"releases": []}, delay=5)
    started = time.monotonic()
    assert release_check(fresh=True).error
    assert time.monotonic() - started < 3


def test_an_unreachable_feed_is_an_error(settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.SYSTEM_RELEASE_FEED_URL = f"http://127.0.0.1:{port}/feed.json"
    assert "could not be read" in release_check(fresh=True).error


@pytest.mark.django_db
def test_the_page_shows_the_notes_and_the_check_it_will_make(admin_user, member_user, feed):
    feed({"releases": [release("0.2.0", sha256=DIGEST, notes="<b>Faster</b> disks")]})
    body = client_for(admin_user).get("/settings/system/release/?fresh=1").content.decode()
    assert "Version 0.2.0 is available." in body and DIGEST in body
    assert "&lt;b&gt;Faster&lt;/b&gt; disks" in body  # the feed's words are text, not markup
    assert client_for(admin_user).get("/api/system/settings/").json()["release"]["version"] == "0.2.0"
    assert client_for(member_user).get("/settings/system/release/").status_code == 403
