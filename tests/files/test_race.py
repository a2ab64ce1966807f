"""Check-then-use (SECURITY.md lesson 14): a folder becomes a link to an outside folder right after a verb resolved
its path, in the window where the old resolver had handed the verb a path string. Every verb must then act
inside the root or refuse with a 4xx: nothing lands, changes or is read outside. Both resolvers run: openat2 and
the component walk of kernels without it (files/fs.py)."""

import contextlib
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from files import fs, paths
from files.models import FileTask, TrashItem
from files.services import archive_run, entries_trash, filetask_run, trash_restore
from tests.files.conftest import body, exchange, snapshot
from tests.files.test_uploads import create, patch

SECRET = "secret outside"
ONLY_OUTSIDE = "only-outside.txt"


@pytest.fixture(params=["openat2", "walk"])
def resolver(request, monkeypatch):
    """Both ways of opening beneath a folder: the kernel's openat2, and the O_NOFOLLOW walk of older kernels."""
    if request.param == "openat2" and not fs.OPENAT2:
        pytest.skip("this kernel has no openat2")
    monkeypatch.setattr(fs, "OPENAT2", request.param == "openat2")
    return request.param


@pytest.fixture
def arena(root, resolver):
    """<root>/box (a folder with files) and <root>/swap, a link to an outside folder holding the same names."""
    box = root / "box"
    outside = root.parent / "outside-box"
    for folder, text in ((box, "inside"), (outside, SECRET)):
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_text(text)
        (folder / "sub" / "s.txt").write_text(text)
    (outside / ONLY_OUTSIDE).write_text(SECRET)
    (root / "swap").symlink_to(outside)
    (root / "src.txt").write_text("source")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("unpacked/x.txt", "x")
    (root / "arch.zip").write_bytes(buf.getvalue())
    return SimpleNamespace(root=root, box=box, outside=outside)


@pytest.fixture
def swap_after_check(arena, monkeypatch):
    """arm(): after the next resolution of a path through box, box becomes the link to the outside folder."""
    state = {"armed": False, "swapped": False}
    original = paths.resolve_in

    def resolving(base, parts, *, follow=True):
        target = original(base, parts, follow=follow)
        if state["armed"] and not state["swapped"] and "box" in target.real.relative_to(arena.root).parts:
            exchange(arena.root / "box", arena.root / "swap")
            state["swapped"] = True
        return target

    monkeypatch.setattr(paths, "resolve_in", resolving)
    return SimpleNamespace(arm=lambda: state.update(armed=True), state=state)


def _run(task_id: int) -> FileTask:
    task = FileTask.objects.get(pk=task_id)
    (archive_run if task.kind in ("extract", "compress") else filetask_run)(task=task)
    task.refresh_from_db()
    return task


def _queued(api, url: str, data: dict, race) -> FileTask:
    response = api.post(url, data, format="json")
    assert response.status_code == 202, response.content
    race.arm()
    return _run(response.json()["id"])


def _text_etag(api) -> str:
    return api.get("/api/files/text/", {"path": "box/a.txt"}).json()["etag"]


VERBS = {
    "mkdir": lambda api, race: (race.arm(), api.post("/api/files/mkdir/", {"path": "box", "name": "n"}, format="json")),
    "newfile": lambda api, race: (
        race.arm(),
        api.post("/api/files/newfile/", {"path": "box", "name": "n.txt"}, format="json"),
    ),
    "rename": lambda api, race: (
        race.arm(),
        api.post("/api/files/rename/", {"path": "box/a.txt", "name": "b.txt"}, format="json"),
    ),
    "delete": lambda api, race: (race.arm(), api.post("/api/files/delete/", {"paths": ["box/a.txt"]}, format="json")),
    "save": lambda api, race: (
        etag := _text_etag(api),
        race.arm(),
        api.put("/api/files/content/?path=box/a.txt", {"content": "x"}, format="json", HTTP_IF_MATCH=f'"{etag}"'),
    ),
    "read": lambda api, race: (race.arm(), api.get("/api/files/text/", {"path": "box/a.txt"})),
    "download": lambda api, race: (race.arm(), api.get("/api/files/content/", {"path": "box/a.txt"})),
    "list": lambda api, race: (race.arm(), api.get("/api/files/", {"path": "box"})),
    "search": lambda api, race: (race.arm(), api.get("/api/files/search/", {"path": "box", "q": "txt"})),
    "zip": lambda api, race: (race.arm(), api.get("/api/files/zip/", {"path": "box"})),
    "permissions": lambda api, race: (
        race.arm(),
        api.post("/api/files/permissions/", {"path": "box", "mode": "700", "recursive": True}, format="json"),
    ),
    "upload": lambda api, race: (race.arm(), create(api, 3, filename="up.txt", path="box", relativePath="d/up.txt")),
    "upload-append": lambda api, race: (
        created := create(api, 3, filename="up.txt", path="box"),
        race.arm(),
        patch(api, created["Location"], 0, b"abc"),
    ),
    "copy-in": lambda api, race: _queued(api, "/api/files/copy/", {"sources": ["src.txt"], "destination": "box"}, race),
    "copy-out": lambda api, race: _queued(api, "/api/files/copy/", {"sources": ["box"], "destination": ""}, race),
    "move-in": lambda api, race: _queued(api, "/api/files/move/", {"sources": ["src.txt"], "destination": "box"}, race),
    "move-out": lambda api, race: _queued(api, "/api/files/move/", {"sources": ["box/sub"], "destination": ""}, race),
    "extract": lambda api, race: _queued(api, "/api/files/extract/", {"path": "arch.zip", "destination": "box"}, race),
    "compress": lambda api, race: _queued(
        api, "/api/files/compress/", {"paths": ["box"], "destination": "", "name": "packed"}, race
    ),
    "share": lambda api, race: (
        token := api.post("/api/files/shares/", {"path": "box"}, format="json").json()["token"],
        race.arm(),
        api.get(f"/s/{token}/download/", {"path": "a.txt"}),
        api.get(f"/s/{token}/"),
        api.get(f"/s/{token}/zip/"),
    ),
}


def _responses(result) -> list:
    return [r for r in (result if isinstance(result, tuple) else (result,)) if hasattr(r, "status_code")]


def _read_back(root: Path) -> str:
    """Every byte written inside the root, zips opened: what a verb could have carried in from outside."""
    texts = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as zf:
                    data += b"".join(zf.read(n) for n in zf.namelist()) + " ".join(zf.namelist()).encode()
            texts.append(data.decode(errors="ignore"))
    return "\n".join(texts)


@pytest.mark.parametrize("verb", list(VERBS))
def test_a_folder_swapped_for_a_link_after_the_check_leads_nowhere_outside(
    admin_api, arena, swap_after_check, verb, django_capture_on_commit_callbacks
):
    before = snapshot(arena.outside)
    result = VERBS[verb](admin_api, swap_after_check)
    assert swap_after_check.state["swapped"], "the verb never resolved a path through box"
    for response in _responses(result):
        assert response.status_code < 500, (verb, response.status_code)
        content = body(response)
        if 400 <= response.status_code < 500 and verb != "share":  # anonymous share pages answer 404, nothing more
            assert response.status_code == 409 and "changed while in use" in content.decode(), (verb, content)
        assert SECRET.encode() not in content and ONLY_OUTSIDE.encode() not in content, verb
        if response.get("Content-Type") == "application/zip":
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                assert all(SECRET.encode() not in zf.read(n) for n in zf.namelist()), verb
    if isinstance(result, FileTask):
        assert result.status in ("done", "failed"), (verb, result.error)
    assert snapshot(arena.outside) == before, verb
    assert SECRET not in _read_back(arena.root), verb


def test_trash_restore_into_a_folder_swapped_for_a_link_leads_nowhere_outside(admin_user, arena, swap_after_check):
    [item] = entries_trash(user=admin_user, paths=["box/a.txt"])
    before = snapshot(arena.outside)
    swap_after_check.arm()
    with contextlib.suppress(paths.PathError, OSError):  # refused, or restored into the folder where it went
        trash_restore(user=admin_user, item=item)
    assert swap_after_check.state["swapped"]
    assert snapshot(arena.outside) == before
    assert TrashItem.objects.filter(pk=item.pk).exists() or (arena.root / "swap" / "a.txt").read_text() == "inside"


ACTS = {
    "mkdir": ("/api/files/mkdir/", {"path": "box", "name": "n"}, 201),
    "newfile": ("/api/files/newfile/", {"path": "box", "name": "n.txt"}, 201),
    "rename": ("/api/files/rename/", {"path": "box/a.txt", "name": "b.txt"}, 200),
}


@pytest.mark.parametrize("verb", list(ACTS))
def test_an_act_done_before_its_folder_is_swapped_is_answered_as_done(admin_api, arena, monkeypatch, verb):
    # The answer describes the entry from the descriptor the act used: a look through the path afterwards would meet
    # the link and call a done act a failure (the client would retry a folder that exists).
    from files.services import ops

    monkeypatch.setattr(ops, "changed", lambda **kw: exchange(arena.root / "box", arena.root / "swap"))
    url, data, status = ACTS[verb]
    response = admin_api.post(url, data, format="json")
    assert response.status_code == status, response.content
    made = response.json()
    assert made["path"] == "box/" + made["name"] and (arena.root / "swap" / made["name"]).exists()
