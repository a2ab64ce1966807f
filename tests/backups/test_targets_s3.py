"""The S3 target for real: moto's S3 server (`python -m moto.server`, requirements-dev.txt) on a loopback port, checking
every request's signature and the key's policy as AWS and MinIO do. Repositories are made through the API and the
services, a folder is backed up and a file restored; wrong keys, a key without rights, a bucket gone, an address
without a bucket and an untrusted or plain-HTTP https:// address each fail in words with nothing made."""

import importlib.util
import json
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from backups.host import restic as R
from backups.models import Repository, Snapshot
from backups.services import RepositoryError, repository_create
from backups.targets import location_check, opened, restic_location
from tests.backups.test_runs import _failed_with, _job, _run
from tests.backups.test_targets import _round_trip, _wait_port
from tests.conftest import free_port, missing

pytestmark = pytest.mark.django_db
ALL_OF_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass(frozen=True)
class S3Server:
    """moto's S3 on loopback: an endpoint, a key that may do anything in S3, one that may do nothing."""

    endpoint: str
    key_id: str
    secret: str
    powerless_key_id: str
    powerless_secret: str
    log: Path

    def client(self):
        """boto3 with the full key: what the test reads on the server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def keys(self, bucket: str) -> list[str]:
        """The object names in a bucket."""
        return [item["Key"] for item in self.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def _moto(tmp: Path, *options: str) -> tuple[subprocess.Popen, int]:
    if importlib.util.find_spec("moto") is None:
        missing("moto is not installed (requirements-dev.txt)")
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port), *options]
    with (tmp / "moto.log").open("w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    _wait_port(port, proc, seconds=30)  # moto imports for a few seconds on a loaded machine
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto with two IAM users, then authentication on (moto accepts any key until told otherwise); stopped after."""
    tmp = tmp_path_factory.mktemp("moto")
    proc, port = _moto(tmp)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield S3Server(endpoint, *_iam_users(endpoint), log=tmp / "moto.log")
    finally:
        _stop(proc)


def _iam_users(endpoint: str) -> tuple[str, str, str, str]:
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1"
    )
    iam.create_user(UserName="casa")
    iam.put_user_policy(UserName="casa", PolicyName="s3", PolicyDocument=json.dumps(ALL_OF_S3))
    iam.create_user(UserName="nobody")  # no policy: every request of its key is denied
    full = iam.create_access_key(UserName="casa")["AccessKey"]
    powerless = iam.create_access_key(UserName="nobody")["AccessKey"]
    auth_on = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(auth_on, timeout=10).close()
    return full["AccessKeyId"], full["SecretAccessKey"], powerless["AccessKeyId"], powerless["SecretAccessKey"]


@pytest.fixture
def bucket(s3_server):
    """A new empty bucket of the test's own."""
    name = f"box-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def _s3_repo(user, server: S3Server, location: str, **fields) -> Repository:
    values = {"username": server.key_id, "secret": server.secret, **fields}
    return repository_create(user=user, name=f"s3-{uuid.uuid4().hex[:6]}", kind="s3", location=location, **values)


def _refused(words: str, user, server: S3Server, location: str, **fields) -> None:
    with pytest.raises(RepositoryError) as exc:
        _s3_repo(user, server, location, **fields)
    assert str(exc.value) == words
    assert not Repository.objects.exists()


def test_a_backup_and_a_restore_over_s3(s3_server, bucket, admin_client, admin_user, photos, restic_present):
    body = {"name": "s3", "kind": "s3", "location": f"{s3_server.endpoint}/{bucket}", "username": s3_server.key_id}
    answer = admin_client.post("/api/backups/repositories/", {**body, "secret": s3_server.secret}, "application/json")
    assert answer.status_code == 201, answer.content
    assert len(answer.json()["password"]) == 47 and s3_server.secret not in answer.content.decode()
    assert "config" in s3_server.keys(bucket)
    repo = Repository.objects.get(name="s3")
    assert repo.kind == "s3" and repo.secret == s3_server.secret
    _round_trip(repo, admin_user, photos)
    listed = admin_client.get(f"/api/backups/snapshots/?repository={repo.pk}").json()
    assert [s["paths"] for s in listed] == [[str(photos)]]
    with opened(repo) as target:
        assert [s.paths for s in R.snapshots(target)] == [(str(photos),)]


def test_a_prefix_in_the_bucket_and_a_bucket_init_makes(s3_server, bucket, admin_user, restic_present):
    _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{bucket}/box/casaos")
    assert "box/casaos/config" in s3_server.keys(bucket)
    fresh = f"new-{uuid.uuid4().hex[:10]}"  # no bucket of that name yet: restic init makes it
    _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{fresh}")
    assert "config" in s3_server.keys(fresh)


def test_the_secret_key_is_never_on_a_command_line(s3_server, bucket, admin_user, photos, monkeypatch, restic_present):
    seen = []

    def spying(real):
        def spy(argv, **kwargs):
            if argv[0] == R.RESTIC:
                seen.append((argv, kwargs["env"]))
            return real(argv, **kwargs)

        return spy

    run, popen = spying(subprocess.run), spying(subprocess.Popen)
    monkeypatch.setattr(R.subprocess, "run", run)
    monkeypatch.setattr(R.subprocess, "Popen", popen)
    repo = _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{bucket}")
    assert _run(_job(repo, admin_user), admin_user).status == "done"
    assert {argv[1] for argv, _ in seen} >= {"cat", "init", "backup", "forget"}  # creation and a run, both paths
    for argv, env in seen:
        assert s3_server.secret not in " ".join(argv) and s3_server.key_id not in " ".join(argv)
        assert env["AWS_SECRET_ACCESS_KEY"] == s3_server.secret and env["AWS_ACCESS_KEY_ID"] == s3_server.key_id
        assert env["RESTIC_REPOSITORY"] == f"s3:{s3_server.endpoint}/{bucket}"
    details = json.dumps(list(AuditEvent.objects.values_list("details", flat=True)))
    assert s3_server.secret not in details


def test_a_wrong_secret_key_is_refused_in_words_with_nothing_made(s3_server, bucket, admin_client, restic_present):
    body = {"name": "s3", "kind": "s3", "location": f"{s3_server.endpoint}/{bucket}", "username": s3_server.key_id}
    answer = admin_client.post("/api/backups/repositories/", {**body, "secret": "not-the-key"}, "application/json")
    assert answer.status_code == 400 and answer.json()["detail"] == "the S3 secret key is wrong"
    assert not Repository.objects.exists() and s3_server.keys(bucket) == []
    body = {**body, "username": "AKIANOSUCHKEY0000000", "secret": s3_server.secret}
    answer = admin_client.post("/api/backups/repositories/", body, "application/json")
    assert answer.status_code == 400 and answer.json()["detail"] == "the S3 access key is not known"


def test_a_wrong_secret_key_fails_a_run_in_words_and_notifies(s3_server, bucket, admin_user, photos, restic_present):
    repo = _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{bucket}")
    before = sorted(s3_server.keys(bucket))
    Repository.objects.filter(pk=repo.pk).update(secret="not-the-key")  # a key rotated on the server, not here
    repo.refresh_from_db()
    _failed_with(_run(_job(repo, admin_user), admin_user), "the S3 secret key is wrong")
    assert sorted(s3_server.keys(bucket)) == before and not Snapshot.objects.exists()  # no lock, no data, no row


def test_a_key_without_rights_is_refused_in_words(s3_server, bucket, admin_user, restic_present):
    keys = {"username": s3_server.powerless_key_id, "secret": s3_server.powerless_secret}
    words = "the S3 server denies this key access to the bucket"
    _refused(words, admin_user, s3_server, f"{s3_server.endpoint}/{bucket}", **keys)
    assert s3_server.keys(bucket) == []


def test_a_bucket_gone_fails_a_run_in_words_and_notifies(s3_server, bucket, admin_user, photos, restic_present):
    repo = _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{bucket}")
    client = s3_server.client()
    for key in s3_server.keys(bucket):
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)
    _failed_with(_run(_job(repo, admin_user), admin_user), "the S3 bucket does not exist")


def test_an_unreachable_endpoint_is_refused_in_words(db, admin_user, restic_present):
    server = S3Server(f"http://127.0.0.1:{free_port()}", "AKIAX", "x", "", "", Path())
    _refused("the backup target does not answer", admin_user, server, f"{server.endpoint}/box")


def test_an_address_without_a_bucket_or_a_key_without_its_secret_is_refused(admin_client):
    keys = {"username": "AKIAX", "secret": "x"}
    said = {"http://127.0.0.1:9000": "bucket", "https://s3.example.com/": "bucket", "s3.example.com/box": "http(s)"}
    for location, words in {**said, "ftp://h/box": "http(s)"}.items():
        body = {"name": "s3", "kind": "s3", "location": location, **keys}
        answer = admin_client.post("/api/backups/repositories/", body, "application/json")
        assert answer.status_code == 400 and words in answer.json()["detail"], location
    for half in ({"username": "AKIAX"}, {"secret": "x"}):  # restic: "Secret ($AWS_SECRET_ACCESS_KEY) is empty"
        body = {"name": "s3", "kind": "s3", "location": "http://127.0.0.1:9000/box", **half}
        answer = admin_client.post("/api/backups/repositories/", body, "application/json")
        assert answer.status_code == 400 and "secret key" in answer.json()["detail"]
    assert not Repository.objects.exists()


def test_a_location_is_given_to_restic_with_its_s3_prefix():
    for location in ("https://s3.example.com/box", "http://127.0.0.1:9000/box/casaos"):
        assert location_check(kind="s3", location=f" {location} ") == location
        assert restic_location(Repository(kind="s3", location=location)) == f"s3:{location}"
    with pytest.raises(ValidationError):
        location_check(kind="s3", location="https://key:secret@s3.example.com/box")  # keys go in their own fields


# ---------------------------------------------------------------------------- https://
@pytest.fixture(scope="module")
def s3_tls_server(tmp_path_factory):
    """moto over TLS on loopback, with a certificate for 127.0.0.1 made here (auth off: only the transport differs)."""
    tmp = tmp_path_factory.mktemp("moto-tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    argv += ["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run([*argv, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    proc, port = _moto(tmp, "-c", str(cert), "-k", str(key))
    try:
        yield f"https://127.0.0.1:{port}", cert
    finally:
        _stop(proc)


def test_an_https_address_works_with_a_trusted_certificate(
    s3_tls_server, admin_user, photos, monkeypatch, restic_present
):
    endpoint, cert = s3_tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server = S3Server(endpoint, "AKIATLS", "tls-secret", "", "", Path())
    _refused("the backup target's certificate is not trusted", admin_user, server, f"{endpoint}/tls-box")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # Go's (restic's) list of trusted certificates, as a host sets it
    repo = _s3_repo(admin_user, server, f"{endpoint}/tls-box")
    assert _run(_job(repo, admin_user), admin_user).status == "done"


def test_an_https_address_of_a_plain_http_server_is_refused_in_words(s3_server, admin_user, restic_present):
    plain = s3_server.endpoint.replace("http://", "https://")
    _refused("the backup target does not speak HTTPS (try http://)", admin_user, s3_server, f"{plain}/box")


def test_the_restore_command_says_a_wrong_s3_secret_in_words(s3_server, bucket, admin_user, tmp_path, restic_present):
    from django.core.management import CommandError, call_command

    repo = _s3_repo(admin_user, s3_server, f"{s3_server.endpoint}/{bucket}")
    (tmp_path / "pw").write_text(repo.password)
    (tmp_path / "secret").write_text("not-the-key")
    options = ["--kind", "s3", "--location", repo.location, "--username", s3_server.key_id]
    options += ["--password-file", str(tmp_path / "pw"), "--secret-file", str(tmp_path / "secret")]
    with pytest.raises(CommandError, match="the S3 secret key is wrong"):
        call_command("restore", *options)


def test_the_page_says_a_wrong_secret_in_words_then_connects(s3_server, bucket, admin_user, restic_present):
    from tests.clients import logged_in

    client = logged_in(admin_user)
    form = {"name": "s3", "kind": "s3", "location": f"{s3_server.endpoint}/{bucket}", "username": s3_server.key_id}
    answer = client.post("/backups/repositories/", {**form, "secret": "not-the-key"})
    assert answer.status_code == 400 and "the S3 secret key is wrong" in answer.content.decode()
    assert not Repository.objects.exists() and s3_server.keys(bucket) == []
    answer = client.post("/backups/repositories/", {**form, "secret": s3_server.secret})
    assert answer.status_code == 302 and answer["Location"].endswith("/recovery/")
    assert "config" in s3_server.keys(bucket)
