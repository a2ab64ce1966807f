import base64
import os
import threading
import requests
import pytest
from django.test import Client

pytestmark = [pytest.mark.stack, pytest.mark.redis]


def _cookie(user):
    c = Client(); c.force_login(user); return c.cookies["sessionid"].value


def _session(server, cookie):
    s = requests.Session()
    s.cookies.set("sessionid", cookie); s.cookies.set("csrftoken", "c" * 32)
    s.headers["X-CSRFToken"] = "c" * 32
    return s


@pytest.mark.parametrize("how", ["link", "offset"])
def test_repro(server, admin_user, root, how, tmp_path):
    cookie = _cookie(admin_user)
    url = f"http://127.0.0.1:{server.port}"
    tus = {"Tus-Resumable": "1.0.0"}
    statuses = []
    (tmp_path / "out").mkdir()
    stop = threading.Event()
    other = []

    def noise():
        s = _session(server, cookie)
        i = 0
        while not stop.is_set():
            other.append(s.put(url + f"/api/files/content/?path=n{i}.txt", json={"content": "x"}).status_code)
            other.append(s.post(url + "/api/files/mkdir/", json={"path": "", "name": f"m{i}"}).status_code)
            i += 1

    t = threading.Thread(target=noise); t.start()
    s = _session(server, cookie)
    try:
        for i in range(40):
            (root / f"d{i}").mkdir()
            meta = f"filename {base64.b64encode(f'x{i}.txt'.encode()).decode()},path {base64.b64encode(f'd{i}'.encode()).decode()}"
            c = s.post(url + "/api/files/uploads/", headers={**tus, "Upload-Length": "3", "Upload-Metadata": meta})
            statuses.append(c.status_code)
            loc = c.headers["Location"]
            if how == "link":
                os.rename(root / f"d{i}", root / f"e{i}")
                (root / f"d{i}").symlink_to(tmp_path / "out")
            p = s.patch(loc, data=b"abc", headers={**tus, "Upload-Offset": "0" if how == "link" else "5", "Content-Type": "application/offset+octet-stream"})
            statuses.append(p.status_code)
            statuses.append(s.get(url + "/api/files/").status_code)
    finally:
        stop.set(); t.join()
    print(statuses, sorted(set(other)))
    assert 500 not in statuses and 500 not in other
