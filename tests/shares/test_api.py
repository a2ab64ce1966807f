"""The shares API and page without a server: refusals (paths outside the roots, names and folders that would inject
smb.conf syntax), who may do what, CSRF, audit. Nothing refused leaves a row, a queued apply or a Unix account."""

import json

import pytest

from accounts.models import AuditEvent
from shares.host import samba as host_samba
from shares.models import SambaAccount, Share
from tests.clients import logged_in
from tests.factories import UserFactory

API = "/api/shares/"


@pytest.fixture
def admin(db):
    return UserFactory(admin=True, username="share-admin")


def _post(client, data, url=API):
    return client.post(url, json.dumps(data), content_type="application/json")


def _nothing_changed(queued) -> None:
    assert not Share.objects.exists()
    assert not queued
    assert not AuditEvent.objects.filter(action__startswith="shares.").exists()


def test_it_creates_a_share_audits_it_and_queues_the_apply(root, admin, queued, django_capture_on_commit_callbacks):
    reader = UserFactory(username="reader")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            logged_in(admin), {"name": "Media", "place": "Media", "grants": [{"user": reader.pk, "access": "read"}]}
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "pending" and body["grants"][0]["smb_name"] == "reader"
    assert queued == [()]
    assert AuditEvent.objects.filter(action="shares.create", target="Media").exists()


@pytest.mark.parametrize(
    "place",
    ["../", "../outside", "Media/../../outside", "/etc", "/", "out", "out/anything", "C:/Windows", "Media/\x00"],
)
def test_it_refuses_a_folder_outside_the_roots(root, admin, queued, place):
    response = _post(logged_in(admin), {"name": "Escape", "place": place})

    assert 400 <= response.status_code < 500, response.content
    assert response.json().get("detail") or response.json().get("place")  # the reason, or the field's error
    _nothing_changed(queued)


def test_it_refuses_a_file_and_a_missing_folder(root, admin, queued):
    client = logged_in(admin)
    assert _post(client, {"name": "File", "place": "notes.txt"}).status_code == 400
    assert _post(client, {"name": "Gone", "place": "no-such-folder"}).status_code == 404
    _nothing_changed(queued)


@pytest.mark.parametrize(
    "name",
    [
        "Media\n[global]",
        "Media]\ninclude = /etc/passwd",
        "[Media",
        "include = /etc/passwd",
        "%H",
        "a%Ub",
        "back\\slash",
        "global",
        "PRINTERS",
        " lead",
        "trail ",
        "semi;colon",
        "a" * 81,
        "",
    ],
)
def test_it_refuses_a_share_name_that_would_inject_smb_conf_syntax(root, admin, queued, name):
    response = _post(logged_in(admin), {"name": name, "place": "Media"})

    assert response.status_code == 400, response.content
    _nothing_changed(queued)


@pytest.mark.parametrize("folder", ["evil%U", "two\nlines", "ends with space ", "back\\slash"])
def test_it_refuses_a_folder_whose_path_smb_conf_would_misread(root, admin, queued, folder):
    (root / folder).mkdir()

    response = _post(logged_in(admin), {"name": "Evil", "place": folder})

    assert response.status_code == 400, response.content
    _nothing_changed(queued)


def test_it_refuses_a_twin_name_in_another_case(root, admin, queued):
    client = logged_in(admin)
    assert _post(client, {"name": "Media", "place": "Media"}).status_code == 201
    response = _post(client, {"name": "MEDIA", "place": "Media"})
    assert response.status_code == 409
    assert Share.objects.count() == 1


def test_it_refuses_grants_to_unknown_or_disabled_users(root, admin, queued):
    gone = UserFactory(username="gone", is_active=False)
    client = logged_in(admin)
    for grants in ([{"user": 999999, "access": "read"}], [{"user": gone.pk, "access": "write"}]):
        assert _post(client, {"name": "Media", "place": "Media", "grants": grants}).status_code == 400
    _nothing_changed(queued)


def test_members_cannot_create_list_or_change_shares(root, admin, queued):
    share = Share.objects.create(name="Media", place="Media", created_by=admin)
    member = logged_in(UserFactory(username="plain"), stepped_up=True)

    assert _post(member, {"name": "Mine", "place": "Media"}).status_code == 403
    assert member.get(API).status_code == 403
    assert (
        member.patch(f"{API}{share.pk}/", json.dumps({"guest": True}), content_type="application/json").status_code
        == 403
    )
    assert member.delete(f"{API}{share.pk}/").status_code == 403
    assert member.post("/shares/new/", {"name": "Mine", "place": "Media"}).status_code == 403
    assert member.get("/shares/").status_code == 403
    share.refresh_from_db()
    assert (share.guest, share.state) == (False, "pending")
    assert Share.objects.count() == 1 and not queued


def test_a_member_sees_only_their_own_smb_state(db):
    SambaAccount.objects.create(user=UserFactory(username="other"), unix_name="other")
    me = UserFactory(username="me")

    body = logged_in(me).get(f"{API}password/").json()

    assert body == {"username": "me", "password_set": False, "password_set_at": None}
    # Nothing in the API names another user's SMB state: the page of shares is an admin's.
    assert logged_in(me).get(f"{API}password/?user=other").json()["username"] == "me"


def test_setting_an_smb_password_needs_a_fresh_step_up(db, monkeypatch):
    called = []
    monkeypatch.setattr("shares.host.accounts.password_set", lambda **kw: called.append(kw))
    me = UserFactory(username="me")

    response = _post(logged_in(me), {"password": "A-long-enough-one-1"}, f"{API}password/")

    assert response.status_code == 403
    assert not called and not SambaAccount.objects.exists()


@pytest.mark.parametrize("password", ["short", "two\nlines-long-enough", ""])
def test_a_bad_smb_password_is_refused_before_samba_hears_it(db, monkeypatch, password):
    called = []
    monkeypatch.setattr("shares.host.accounts.password_set", lambda **kw: called.append(kw))
    client = logged_in(UserFactory(username="me"), stepped_up=True)

    response = _post(client, {"password": password}, f"{API}password/")

    assert response.status_code == 400, response.content
    assert not called


def test_the_page_and_the_password_form_need_a_csrf_token(root, admin, queued):
    admin_client = logged_in(admin, stepped_up=True, csrf=True)
    member_client = logged_in(UserFactory(username="me"), stepped_up=True, csrf=True)

    assert admin_client.post("/shares/new/", {"name": "Media", "place": "Media"}).status_code == 403
    assert (
        member_client.post("/shares/password/", {"smb_password1": "x" * 12, "smb_password2": "x" * 12}).status_code
        == 403
    )
    assert _post(admin_client, {"name": "Media", "place": "Media"}).status_code == 403
    _nothing_changed(queued)
    assert not SambaAccount.objects.exists()


def test_the_page_creates_a_share_and_shows_a_refusal_in_place(root, admin, queued):
    reader = UserFactory(username="reader")
    client = logged_in(admin)

    refused = client.post("/shares/new/", {"name": "Bad[name", "place": "Media"})
    made = client.post(
        "/shares/new/", {"name": "Media", "place": "Media", "visible": "on", f"access-{reader.pk}": "write"}
    )

    assert refused.status_code == 400 and "share name" in refused.content.decode()
    assert made.status_code == 302
    share = Share.objects.get()
    assert share.visible and share.grants.get().access == "write"
    page = client.get("/shares/").content.decode()
    assert "Media" in page and "\\\\" in page


def test_the_account_page_offers_the_smb_password_form(db):
    page = logged_in(UserFactory(username="me")).get("/settings/").content.decode()
    assert 'action="/shares/password/"' in page and "<code>me</code>" in page


def test_an_unsafe_value_never_reaches_the_file_even_past_the_checks():
    for bad in ("a%b", "a\nb", "a\\", " a"):
        with pytest.raises(Exception, match="unsafe"):
            host_samba.render([host_samba.ShareSpec(name="X", path=bad)], user="u", group="g")
    with pytest.raises(Exception, match="unsafe"):
        host_samba.render([host_samba.ShareSpec(name="x]\n[global", path="/srv")], user="u", group="g")


def test_the_include_line_is_added_once(tmp_path):
    conf = tmp_path / "smb.conf"
    conf.write_text("[global]\n   workgroup = HOME\n")
    include = tmp_path / "casaos-shares.conf"

    assert host_samba.include_ensure(conf=conf, include=include) is True
    assert host_samba.include_ensure(conf=conf, include=include) is False
    assert conf.read_text().count(f"include = {include}") == 1
    assert conf.read_text().startswith("[global]\n   workgroup = HOME\n")


def test_the_unix_name_falls_back_when_the_username_is_not_one(db):
    from shares.smbaccounts import unix_name_for

    assert unix_name_for(UserFactory(username="Alice")) == "alice"
    odd = UserFactory(username="jo@home.example")
    assert unix_name_for(odd) == f"casaos-{odd.pk}"
    root_like = UserFactory(username="root")  # a host account that is not ours: never reused
    assert unix_name_for(root_like) == f"casaos-{root_like.pk}"


def test_the_avahi_service_file_announces_smb_and_the_device(tmp_path):
    from shares.host import discovery

    path = tmp_path / "casaos-smb.service"
    text = discovery.render_service(port=discovery.smb_port("445 139"))

    assert discovery.service_install(path=path, text=text) is True
    assert discovery.service_install(path=path, text=text) is False  # unchanged: avahi is not woken
    written = path.read_text()
    assert "<type>_smb._tcp</type>\n    <port>445</port>" in written
    assert "<type>_device-info._tcp</type>" in written and "model=RackMac" in written
    assert '<name replace-wildcards="yes">%h</name>' in written
    assert discovery.service_install(path=path, text=None) is True and not path.exists()


def test_a_change_of_the_disks_applies_the_shares_on_a_disk_again(db, queued):
    from casaos_site.events import publish

    Share.objects.create(name="Media", place="Media")
    publish("storage", "storage.inventory", {"disks": 1})
    assert queued == []

    Share.objects.create(name="Films", place="@Data/Films")
    publish("storage", "storage.inventory", {"disks": 1})
    assert queued == [()]


def test_without_samba_set_up_nothing_is_made_on_the_host(db, settings, tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr("shares.host.accounts.run", lambda argv, **kw: made.append(argv))
    settings.SAMBA_CONF = tmp_path / "no-smb.conf"
    client = logged_in(UserFactory(username="me"), stepped_up=True)

    response = _post(client, {"password": "A-long-enough-one-1"}, f"{API}password/")

    assert response.status_code == 503 and "Samba is not set up" in response.json()["detail"]
    assert not made and not SambaAccount.objects.exists()
