"""Range downloads, safe headers for hostile file types, streamed zips of a selection."""

import io
import zipfile

import pytest

from tests.files.conftest import body


@pytest.fixture
def files(root):
    (root / "movie.mp4").write_bytes(bytes(range(256)) * 40)
    (root / "page.html").write_text("<script>alert(1)</script>")
    (root / "pic.svg").write_text("<svg onload=alert(1)></svg>")
    (root / "album").mkdir()
    (root / "album" / "a.txt").write_text("a" * 5000)
    (root / "album" / "deep").mkdir()
    (root / "album" / "deep" / "b.txt").write_text("b")
    return root


def test_it_serves_ranges_for_resume_and_seeking(admin_api, files):
    data = (files / "movie.mp4").read_bytes()
    response = admin_api.get("/api/files/content/", {"path": "movie.mp4"}, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(data)}" and response["Accept-Ranges"] == "bytes"
    assert body(response) == data[100:200]
    tail = admin_api.get("/api/files/content/", {"path": "movie.mp4"}, HTTP_RANGE="bytes=-10")
    assert body(tail) == data[-10:]
    rest = admin_api.get("/api/files/content/", {"path": "movie.mp4"}, HTTP_RANGE="bytes=10000-")
    assert body(rest) == data[10000:]
    bad = admin_api.get("/api/files/content/", {"path": "movie.mp4"}, HTTP_RANGE=f"bytes={len(data)}-")
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{len(data)}"


def test_if_range_with_a_stale_etag_sends_the_whole_file(admin_api, files):
    response = admin_api.get(
        "/api/files/content/", {"path": "movie.mp4"}, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"'
    )
    assert response.status_code == 200 and len(body(response)) == 10240


def test_media_plays_inline_but_html_and_svg_are_always_sandboxed_downloads(admin_api, files):
    video = admin_api.get("/api/files/content/", {"path": "movie.mp4", "inline": "1"})
    assert video["Content-Type"] == "video/mp4" and video["Content-Disposition"].startswith("inline")
    for name in ("page.html", "pic.svg"):
        response = admin_api.get("/api/files/content/", {"path": name, "inline": "1"})
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_selection_is_streamed_as_a_valid_zip(admin_api, files):
    response = admin_api.get("/api/files/zip/?path=album&path=movie.mp4")
    assert response.status_code == 200 and response.streaming
    assert "Content-Length" not in response  # produced while sent, never stored whole
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    assert set(archive.namelist()) >= {"album/a.txt", "album/deep/b.txt", "movie.mp4"}
    assert archive.read("album/a.txt") == b"a" * 5000


def test_a_zip_leaves_links_leading_out_behind(admin_api, files):
    (files / "album" / "leak").symlink_to(files.parent / "outside.txt")
    archive = zipfile.ZipFile(io.BytesIO(body(admin_api.get("/api/files/zip/?path=album"))))
    assert "album/leak" not in archive.namelist()
    assert all(b"secret outside" not in archive.read(n) for n in archive.namelist() if not n.endswith("/"))


def test_the_editor_refuses_to_overwrite_a_file_changed_since_it_was_opened(admin_api, files):
    first = admin_api.get("/api/files/text/", {"path": "album/a.txt"}).json()
    (files / "album" / "a.txt").write_text("changed by someone else")
    response = admin_api.put(
        "/api/files/content/?path=album/a.txt", {"content": "mine"}, format="json", HTTP_IF_MATCH=f'"{first["etag"]}"'
    )
    assert response.status_code == 412
    assert (files / "album" / "a.txt").read_text() == "changed by someone else"
    fresh = admin_api.get("/api/files/text/", {"path": "album/a.txt"}).json()
    ok = admin_api.put(
        "/api/files/content/?path=album/a.txt", {"content": "mine"}, format="json", HTTP_IF_MATCH=f'"{fresh["etag"]}"'
    )
    assert ok.status_code == 200 and (files / "album" / "a.txt").read_text() == "mine"
