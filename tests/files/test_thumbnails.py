"""Thumbnails: made once per file version and size, however many requests ask while the worker is busy.

The broker is swapped for a list here (and only here): the shared test Redis is consumed by other test runs'
workers, which would make the thumbnails behind the test's back. The task body itself runs for real.
"""

import os
import time

import pytest
from PIL import Image

from files import tasks
from files.services.thumbs import CLAIM_SECONDS, thumbnail_path
from tests.files.conftest import body


@pytest.fixture
def queued(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(tasks.thumbnail_make, "delay", calls.append)
    return calls


def test_many_requests_for_a_missing_thumbnail_queue_one_task(admin_api, root, queued):
    Image.new("RGB", (900, 600), "blue").save(root / "pic.png")
    for _ in range(6):  # a grid and its retries
        assert admin_api.get("/api/files/thumbnail/", {"path": "pic.png"}).status_code == 202
    assert queued == [str(root / "pic.png")]
    tasks.thumbnail_make(queued[0])  # the worker's turn
    done = admin_api.get("/api/files/thumbnail/", {"path": "pic.png"})
    assert done.status_code == 200 and done["Content-Type"] == "image/webp" and body(done)[:4] == b"RIFF"
    assert len(queued) == 1  # served from the cache, nothing queued again
    Image.new("RGB", (300, 200), "red").save(root / "pic.png")  # a new version of the file: a new thumbnail
    assert admin_api.get("/api/files/thumbnail/", {"path": "pic.png"}).status_code == 202
    assert len(queued) == 2


def test_a_file_that_cannot_be_thumbnailed_is_not_retried(admin_api, root, queued):
    (root / "fake.png").write_bytes(b"not an image at all")
    assert admin_api.get("/api/files/thumbnail/", {"path": "fake.png"}).status_code == 202
    tasks.thumbnail_make(queued[0])
    for _ in range(3):
        assert admin_api.get("/api/files/thumbnail/", {"path": "fake.png"}).status_code == 404
    assert len(queued) == 1


def test_a_claim_left_by_a_dead_worker_is_taken_over(admin_api, root, queued):
    Image.new("RGB", (50, 50), "green").save(root / "pic.png")
    assert admin_api.get("/api/files/thumbnail/", {"path": "pic.png"}).status_code == 202
    claim = thumbnail_path(root / "pic.png").with_suffix(".pending")
    old = time.time() - CLAIM_SECONDS - 10
    os.utime(claim, (old, old))
    assert admin_api.get("/api/files/thumbnail/", {"path": "pic.png"}).status_code == 202
    assert admin_api.get("/api/files/thumbnail/", {"path": "pic.png"}).status_code == 202
    assert len(queued) == 2
