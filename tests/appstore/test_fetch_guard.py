"""Store fetching (issue 12.9): link-local and metadata addresses are refused at every hop whatever the LAN switch
says, each connection goes to the address that was checked, and the deadline bounds the whole download."""

import contextlib
import datetime
import json
import shutil
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appstore import connections
from appstore.addresses import address_allowed, address_kind
from appstore.fetch import MAX_REDIRECTS, BlockedAddress, FetchError, Limits, check_url, fetch
from appstore.problems import store_problem
from appstore.sync import store_dir
from tests.appstore.conftest import V2_STORE, StoreServer, make_store, sync

LIMITS = Limits(max_bytes=10_000)
METADATA = ["169.254.169.254", "169.254.170.2", "fd00:ec2::254", "fd20:ce::254", "100.100.100.200", "168.63.129.16"]


# ---------------------------------------------------------------------------- the rules, without a network
@pytest.mark.parametrize(
    "address",
    [
        *METADATA,
        "169.254.1.1",
        "fe80::1",
        "fe80::1%eth0",
        "192.0.0.192",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "::a9fe:a9fe",  # IPv4-compatible
        "224.0.0.1",
        "0.0.0.0",
    ],
)
def test_link_local_and_metadata_addresses_are_never_allowed_not_even_on_the_lan(address):
    assert address_kind(address) == "never"
    assert address_allowed(address, allow_lan=True) is False


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.10", "fd00::1", "100.64.0.1", "64:ff9b::a00:1", "2002:a00:1::1"],
)
def test_lan_addresses_need_the_switch(address):
    assert address_kind(address) == "lan"
    assert address_allowed(address, allow_lan=True) is True
    assert address_allowed(address, allow_lan=False) is False


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:a9fe:a9fe]/"]
)
def test_a_metadata_address_in_the_url_itself_is_refused_before_any_network(url):
    with pytest.raises(FetchError) as refused:
        check_url(url)
    assert refused.value.code == "forbidden" and "never allowed" in str(refused.value)


# ---------------------------------------------------------------------------- every hop, the address connected to
@pytest.fixture
def connects(monkeypatch):
    """The (address, port) of every connection fetch opens."""
    seen: list[tuple[str, int]] = []
    real = connections.create_connection

    def spy(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(connections, "create_connection", spy)
    return seen


@pytest.fixture
def fake_dns(monkeypatch):
    """Names ending in .test resolve to what the test says (one answer per lookup, the last one repeating)."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".test"):
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


@pytest.mark.django_db
def test_a_redirect_to_the_metadata_service_is_refused_even_with_lan_stores_allowed(store_server, allow_lan, connects):
    started = time.monotonic()
    store = sync(make_store(url=store_server.url("redirect/http://169.254.169.254/latest/meta-data/iam/x.zip")))
    assert store.status == "error" and store.error_code == "forbidden"
    assert "169.254.169.254" in store.error and "never allowed" in store.error
    assert "link-local or cloud metadata" in store_problem(store)
    assert {host for host, _port in connects} == {"127.0.0.1"}  # not even a connection attempt to the metadata
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "target", ["http://[fd00:ec2::254]/latest/", "http://100.100.100.200/latest/", "http://[fe80::1]/"]
)
def test_every_metadata_spelling_is_refused_after_a_redirect(store_server, connects, target):
    with pytest.raises(BlockedAddress) as refused:
        fetch(store_server.url("redirect/" + target), allow_lan=True, limits=LIMITS)
    assert refused.value.code == "forbidden" and "redirect" in str(refused.value)
    assert {host for host, _port in connects} == {"127.0.0.1"}


def test_a_name_that_resolves_to_the_metadata_service_is_refused_before_connecting(store_server, fake_dns, connects):
    answers, _lookups = fake_dns
    answers["metadata.test"] = ["169.254.169.254"]
    with pytest.raises(BlockedAddress) as refused:
        fetch(store_server.url("redirect/http://metadata.test/latest/"), allow_lan=True, limits=LIMITS)
    assert refused.value.code == "forbidden" and "metadata.test leads to 169.254.169.254" in str(refused.value)
    assert {host for host, _port in connects} == {"127.0.0.1"}


def test_it_resolves_once_and_connects_to_the_address_it_checked_keeping_the_name(store_server, fake_dns, connects):
    answers, lookups = fake_dns
    answers["rebind.test"] = ["127.0.0.1", "169.254.169.254"]  # a rebinding name: allowed first, metadata after
    store_server.put("target.txt", b"hello")
    port = store_server.httpd.server_address[1]
    got = fetch(f"http://rebind.test:{port}/target.txt", allow_lan=True, limits=LIMITS)
    assert got.body == b"hello" and lookups == ["rebind.test"]
    assert connects == [("127.0.0.1", port)] and store_server.hosts == [f"rebind.test:{port}"]
    with pytest.raises(BlockedAddress):  # the next lookup gets the metadata address: refused, not connected
        fetch(f"http://rebind.test:{port}/target.txt", allow_lan=True, limits=LIMITS)
    assert connects == [("127.0.0.1", port)]


def _self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def test_https_keeps_the_name_for_sni_while_connecting_to_the_checked_address(tmp_path, fake_dns, connects):
    answers, _lookups = fake_dns
    answers["sni.test"] = ["127.0.0.1"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path, "sni.test"))
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def handshake():
        conn, _ = listener.accept()
        # The client does not trust a self-signed certificate: it hangs up after sending its name.
        with contextlib.suppress(ssl.SSLError, OSError):
            context.wrap_socket(conn, server_side=True).close()

    server = threading.Thread(target=handshake, daemon=True)
    server.start()
    with pytest.raises(FetchError) as failed:
        fetch(f"https://sni.test:{port}/store.zip", allow_lan=True, limits=LIMITS)
    server.join(5)
    listener.close()
    assert failed.value.code == "tls" and names == ["sni.test"] and connects == [("127.0.0.1", port)]


def test_a_redirect_chain_ending_at_a_private_address_is_refused_without_the_lan_switch(tmp_path, monkeypatch):
    # 127.0.0.2 stands in for a public store (no test can reach a real one); the chain's end, 127.0.0.1, is local.
    real_kind = connections.address_kind
    monkeypatch.setattr(connections, "address_kind", lambda a: "public" if a == "127.0.0.2" else real_kind(a))
    (tmp_path / "public").mkdir()
    (tmp_path / "private").mkdir()
    public, private = StoreServer(tmp_path / "public", host="127.0.0.2"), StoreServer(tmp_path / "private")
    try:
        public.put("ok.txt", b"public")
        assert fetch(public.url("redirect//ok.txt"), allow_lan=False, limits=LIMITS).body == b"public"
        private.put("secret.txt", b"private")
        hop = "redirect//redirect/" + private.url("secret.txt")
        with pytest.raises(BlockedAddress) as refused:
            fetch(public.url(hop), allow_lan=False, limits=LIMITS)
        assert refused.value.code == "blocked" and "127.0.0.1" in str(refused.value)
        assert private.requests == [] and len(public.requests) == 4
    finally:
        public.close()
        private.close()


def test_redirects_are_counted(store_server):
    with pytest.raises(FetchError) as refused:
        fetch(store_server.url("loop/store.zip"), allow_lan=True, limits=LIMITS)
    assert refused.value.code == "redirects" and f"more than {MAX_REDIRECTS} redirects" in str(refused.value)
    assert len(store_server.requests) == MAX_REDIRECTS + 1


# ---------------------------------------------------------------------------- one deadline for the whole download
@pytest.mark.parametrize("how", ["drip", "drip-nolength", "drip-head"])
def test_the_deadline_is_wall_clock_for_the_whole_download(store_server, tmp_path, how):
    (tmp_path / "downloads").mkdir()
    started = time.monotonic()
    with pytest.raises(FetchError) as late:
        fetch(
            store_server.url(f"{how}/0.5/store.zip"),
            allow_lan=True,
            limits=Limits(max_bytes=10_000, read_timeout=15, deadline=2),
            dest=tmp_path / "downloads" / "store.zip",
        )
    assert late.value.code == "deadline" and "longer than 2 seconds" in str(late.value)
    assert time.monotonic() - started < 3.5  # each byte came well within the read timeout: only the deadline cut it
    assert list((tmp_path / "downloads").iterdir()) == []  # no partial file
    assert store_server.drips_ended.wait(3)  # the connection was closed, not left dripping


@pytest.mark.django_db
def test_a_dripping_store_fails_at_the_deadline_and_frees_the_worker(store_server, allow_lan, settings):
    settings.APPSTORE_DOWNLOAD_DEADLINE = 3
    store = make_store(url=store_server.url("drip-nolength/0.5/store.zip"))
    started = time.monotonic()
    store = sync(store)
    assert time.monotonic() - started < 5
    assert store.status == "error" and store.error_code == "deadline" and "longer than 3 seconds" in store.error
    assert store_problem(store).startswith("The download took longer than this machine allows")
    assert [p for p in store_dir(store.pk).rglob("*") if p.is_file()] == []
    assert store_server.drips_ended.wait(3)


@pytest.mark.django_db
def test_the_files_of_a_v2_store_share_one_deadline(store_server, allow_lan, settings):
    # Each file comes within a second, well within the deadline; all of them together do not.
    settings.APPSTORE_DOWNLOAD_DEADLINE = 3
    shutil.copytree(V2_STORE, store_server.root / "v2")
    hello = json.loads((V2_STORE / "index.json").read_text())[0]
    slow = [
        {**hello, "id": f"app{i}", "compose_url": f"/slow/0.6/v2/{hello['compose_url']}", "meta_url": ""}
        for i in range(10)
    ]
    store_server.put("v2/index.json", json.dumps(slow).encode())
    started = time.monotonic()
    store = sync(make_store(url=store_server.url("v2/index.json")))
    assert time.monotonic() - started < 5
    assert store.status == "error" and store.error_code == "deadline" and "longer than 3 seconds" in store.error
    assert store.app_count == 0
