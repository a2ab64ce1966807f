"""Issue 12.6, the attack as it was made on a live server: a folder of the files root trades places with a link to an
outside folder in a tight loop (renameat2 RENAME_EXCHANGE, from a process of its own) while every verb of the file
manager goes at it through the real server and its worker for a minute. Nothing may land, change or be read
outside, no answer may be a server error, and every refusal says why (SECURITY.md lesson 14).

The one test of the suite that takes a minute by design: a file of its own, so under xdist (--dist loadfile) one
worker spends that minute on it while the others go on; tests/files/test_race.py covers every verb at the moment
of the swap in seconds."""

import base64
import hashlib
import io
import itertools
import secrets
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import requests
from django.conf import settings

from accounts.models import APIToken
from accounts.services.tokens import api_token_create
from files.models import FileTask
from tests.attacks.conftest import Api
from tests.factories import UserFactory
from tests.files.conftest import snapshot

pytestmark = [pytest.mark.stack, pytest.mark.redis]
SECONDS = 60
SECRET = "secret outside"
ONLY_OUTSIDE = "only-outside.txt"
FINISHED = (FileTask.Status.DONE, FileTask.Status.FAILED, FileTask.Status.CANCELLED)
SWAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
while True:
    libc.renameat2(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE
"""


@pytest.fixture
def arena(tmp_path):
    """<files root>/race-<random>/box (the folder under attack) and an outside folder holding the same names."""
    top = Path(settings.FILES_ROOT) / f"race-{secrets.token_hex(4)}"
    outside = tmp_path / "outside"
    for folder, text in ((top / "box", "inside"), (outside, SECRET)):
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_text(text)
        (folder / "sub" / "s.txt").write_text(text)
    (outside / ONLY_OUTSIDE).write_text(SECRET)
    (top / "swap").symlink_to(outside)
    (top / "src.txt").write_text("source")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("unpacked/x.txt", "x")
    (top / "arch.zip").write_bytes(buf.getvalue())
    yield top, outside
    shutil.rmtree(top, ignore_errors=True)


class Attacker:
    """One client thread: goes through every verb in turn, keeping at most one worker task of its own in flight."""

    def __init__(self, api, share_url: str, top: str, number: int):
        self.api, self.share_url, self.top, self.number = api, share_url, top, number
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.leaks: list[str] = []
        self.task: int | None = None

    def run(self, stop: threading.Event) -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            for verb in VERBS:
                try:
                    verb(self, f"{self.number}-{n}")
                except requests.RequestException as exc:
                    self.errors.append(f"{verb.__name__}: {exc}")

    def answer(self, response: requests.Response, verb: str) -> requests.Response:
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{verb}: {response.status_code} {response.text[:200]}")
        if 400 <= response.status_code < 500 and response.request.method != "HEAD" and not response.text.strip():
            self.errors.append(f"{verb}: {response.status_code} without a word of why")
        if SECRET.encode() in response.content or ONLY_OUTSIDE.encode() in response.content:
            self.leaks.append(verb)
        return response

    def post(self, url: str, data: dict, verb: str) -> requests.Response:
        return self.answer(self.api.post(url, json=data), verb)

    def queue(self, url: str, data: dict, verb: str) -> None:
        """A copy, move, extract or compress, unless this thread's last one is still waiting or running."""
        if self.task is not None:
            state = self.api.get(f"/api/files/tasks/{self.task}/")
            if state.status_code != 200 or state.json()["status"] not in FINISHED:
                return
        response = self.post(url, data, verb)
        self.task = response.json()["id"] if response.status_code == 202 else None

    def upload(self, n: str, *, checksum: bool) -> None:
        """A resumable upload in two chunks (its partial file waits in the folder between them), with a HEAD to
        learn where to resume, as tus clients do."""
        data = f"upload {n}".encode()
        meta = {"filename": "u.txt", "path": f"{self.top}/box", "relativePath": f"up-{n}/u.txt"}
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
        tus = {"Tus-Resumable": "1.0.0"}
        created = self.api.post(
            "/api/files/uploads/", headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": metadata}
        )
        self.answer(created, "upload")
        if created.status_code != 201:
            return
        location = created.headers["Location"]
        for chunk in (data[:4], data[4:]):
            offset = self.answer(self.api.session.head(location, headers=tus, timeout=60), "upload-head")
            if offset.status_code != 200 or not self.append(location, offset.headers["Upload-Offset"], chunk, checksum):
                return

    def append(self, location: str, offset: str, chunk: bytes, checksum: bool) -> bool:
        headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": offset, "Content-Type": "application/offset+octet-stream"}
        if checksum:  # read by the view; without one the server splices the body into the file in the kernel
            headers["Upload-Checksum"] = "sha1 " + base64.b64encode(hashlib.sha1(chunk).digest()).decode()
        appended = self.api.session.patch(location, data=chunk, headers=headers, timeout=60)
        return self.answer(appended, "upload-append").status_code == 204


def _mkdir(a: Attacker, n: str) -> None:
    a.post("/api/files/mkdir/", {"path": f"{a.top}/box", "name": f"d-{n}"}, "mkdir")


def _newfile(a: Attacker, n: str) -> None:
    a.post("/api/files/newfile/", {"path": f"{a.top}/box", "name": f"f-{n}"}, "newfile")


def _save(a: Attacker, n: str) -> None:
    a.answer(a.api.put(f"/api/files/content/?path={a.top}/box/note-{n}.txt", json={"content": n}), "save")


def _uploads(a: Attacker, n: str) -> None:
    a.upload(n, checksum=False)
    a.upload(n, checksum=True)


def _rename(a: Attacker, n: str) -> None:
    a.post("/api/files/rename/", {"path": f"{a.top}/box/f-{n}", "name": f"g-{n}"}, "rename")


def _reads(a: Attacker, n: str) -> None:
    a.answer(a.api.get("/api/files/content/", params={"path": f"{a.top}/box/a.txt"}), "download")
    a.answer(a.api.get("/api/files/text/", params={"path": f"{a.top}/box/sub/s.txt"}), "read")
    a.answer(a.api.get("/api/files/", params={"path": f"{a.top}/box"}), "list")
    a.answer(a.api.get("/api/files/search/", params={"path": f"{a.top}/box", "q": "txt"}), "search")
    a.answer(a.api.get("/api/files/zip/", params={"path": f"{a.top}/box"}), "zip")


def _shares(a: Attacker, n: str) -> None:
    a.post("/api/files/shares/", {"path": f"{a.top}/box/a.txt"}, "share")
    if int(n.rpartition("-")[2]) % 4:
        return  # anonymous reads are throttled per address (300 a minute): one round in four
    for url in (f"{a.share_url}download/?path=a.txt", a.share_url, f"{a.share_url}zip/"):
        a.answer(requests.get(url, timeout=60), "share-read")


def _tasks(a: Attacker, n: str) -> None:
    box = f"{a.top}/box"
    kinds = (
        ("/api/files/copy/", {"sources": [f"{a.top}/src.txt"], "destination": box}, "copy"),
        ("/api/files/move/", {"sources": [f"{box}/g-{n}"], "destination": f"{box}/sub"}, "move"),
        ("/api/files/copy/", {"sources": [f"{box}/sub"], "destination": a.top}, "copy-out"),
        ("/api/files/extract/", {"path": f"{a.top}/arch.zip", "destination": box}, "extract"),
        ("/api/files/compress/", {"paths": [box], "destination": a.top, "name": f"z-{n}"}, "compress"),
    )
    a.queue(*kinds[int(n.rpartition("-")[2]) % len(kinds)])


def _delete_and_restore(a: Attacker, n: str) -> None:
    trashed = a.post("/api/files/delete/", {"paths": [f"{a.top}/box/d-{n}"]}, "delete")
    if trashed.status_code == 200 and trashed.json():
        a.answer(a.api.post(f"/api/files/trash/{trashed.json()[0]['id']}/restore/"), "restore")


def _permissions(a: Attacker, n: str) -> None:
    a.post("/api/files/permissions/", {"path": f"{a.top}/box", "mode": "755", "recursive": True}, "permissions")


VERBS = (_mkdir, _newfile, _save, _uploads, _rename, _reads, _shares, _tasks, _delete_and_restore, _permissions)


def _read_back(top: Path) -> list[str]:
    """Files inside the arena holding outside bytes (zips opened): what a verb could have carried in."""
    found = []
    for path in top.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if path.suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                data += b"".join(zf.read(n) for n in zf.namelist()) + " ".join(zf.namelist()).encode()
        if SECRET.encode() in data or ONLY_OUTSIDE.encode() in data:
            found.append(str(path.relative_to(top)))
    return found


def _wait_for_tasks(timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while FileTask.objects.exclude(status__in=FINISHED).exists() and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.fixture
def racers(live_stack, transactional_db) -> list[Api]:
    """Three admins, one per client thread: each has a throttle bucket of its own (3,000 requests a minute)."""
    users = [UserFactory(admin=True, username=f"racer-{n}") for n in range(3)]
    return [Api(live_stack.url, api_token_create(user=u, name="race", scope=APIToken.Scope.FULL)[1]) for u in users]


def test_a_folder_swapped_for_a_link_for_a_minute_lets_nothing_out(admin_api, racers, arena):
    top, outside = arena
    view = top.name
    before = snapshot(outside)
    share = admin_api.post("/api/files/shares/", json={"path": f"{view}/box"})
    assert share.status_code == 201, share.text
    share_url = share.json()["url"]
    attackers = [Attacker(api, share_url, view, number) for number, api in enumerate(racers)]
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,)) for a in attackers]
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(top / "box"), str(top / "swap")])
    try:
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        _wait_for_tasks()
    finally:
        stop.set()
        swapper.kill()
        swapper.wait()
    statuses = sum((a.statuses for a in attackers), Counter())
    assert not [e for a in attackers for e in a.errors], [e for a in attackers for e in a.errors][:20]
    assert not [v for a in attackers for v in a.leaks], Counter(v for a in attackers for v in a.leaks)
    assert snapshot(outside) == before
    assert not _read_back(top)
    assert sum(statuses.values()) > 300, statuses  # the minute was spent attacking, not waiting
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses), statuses
