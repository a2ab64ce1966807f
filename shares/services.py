"""Shares: create, change and remove them (each audited), then apply the whole set through a Celery task."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred

from .models import Share, ShareGrant
from .smbaccounts import account_for
from .validation import ShareRefused, check_share_name, share_folder


def shares_apply_queue() -> None:
    """Write the shares into Samba's configuration once the change is committed (shares.apply task)."""
    from .tasks import shares_apply

    transaction.on_commit(lambda: shares_apply.delay())


def _check_name_free(name: str, share: Share | None) -> None:
    others = Share.objects.annotate(key=Lower("name")).filter(key=name.lower())
    if share is not None:
        others = others.exclude(pk=share.pk)
    if others.exists():
        raise ShareRefused(deferred("A share called “%(name)s” exists already.", name=name), field="name", status=409)


def _grants_checked(grants: dict[int, str]) -> dict:
    """{user: access} for active users of ours; an unknown user or access is refused, not skipped."""
    users = get_user_model().objects.in_bulk(list(grants))
    checked = {}
    for user_id, access in grants.items():
        user = users.get(user_id)
        if user is None or not user.is_active:
            raise ShareRefused(deferred("Choose users from the list."), field="grants")
        if access not in ShareGrant.Access.values:
            raise ShareRefused(deferred("Access is read or write."), field="grants")
        checked[user] = access
    return checked


def _grants_set(share: Share, grants: dict) -> None:
    share.grants.exclude(user__in=list(grants)).delete()
    for user, access in grants.items():
        account_for(user)  # the SMB user name is chosen now: smb.conf names it
        ShareGrant.objects.update_or_create(share=share, user=user, defaults={"access": access})


def _details(share: Share) -> dict:
    grants = ", ".join(f"{g.user.get_username()}:{g.access}" for g in share.grants.select_related("user"))
    return {"place": share.place, "guest": share.guest, "visible": share.visible, "recycle": share.recycle,
            "grants": grants}  # fmt: skip


@transaction.atomic
def share_create(
    *, user, name: str, place: str, grants: dict[int, str], guest=False, visible=True, recycle=False, request=None
) -> Share:
    """Check the name and the folder (inside a root, nothing smb.conf would misread), record the share, apply."""
    name = check_share_name(name)
    _check_name_free(name, None)
    share_folder(place)
    checked = _grants_checked(grants)
    try:
        share = Share.objects.create(
            name=name, place=place, guest=guest, visible=visible, recycle=recycle, created_by=user
        )
    except IntegrityError:  # a twin created between the check and here
        raise ShareRefused(deferred("A share called “%(name)s” exists already.", name=name), field="name", status=409)
    _grants_set(share, checked)
    audit_record(actor=user, action="shares.create", request=request, target=name, details=_details(share))
    shares_apply_queue()
    return share


@transaction.atomic
def share_change(*, user, share: Share, request=None, grants: dict[int, str] | None = None, **fields) -> Share:
    """Change a share's name, folder, flags or grants (only what is given), record it and apply."""
    if share.state == Share.State.REMOVING:
        raise ShareRefused(deferred("This share is being removed."), status=409)
    if "name" in fields:
        fields["name"] = check_share_name(fields["name"])
        _check_name_free(fields["name"], share)
    if "place" in fields:
        share_folder(fields["place"])
    checked = _grants_checked(grants) if grants is not None else None
    for key, value in fields.items():
        setattr(share, key, value)
    share.state, share.error = Share.State.PENDING, ""
    share.save()
    if checked is not None:
        _grants_set(share, checked)
    audit_record(actor=user, action="shares.change", request=request, target=share.name, details=_details(share))
    shares_apply_queue()
    return share


@transaction.atomic
def share_remove(*, user, share: Share, request=None) -> Share:
    """Take the share out of Samba: the row stays (state removing) until the configuration without it is live."""
    share.state, share.error = Share.State.REMOVING, ""
    share.save(update_fields=["state", "error", "updated_at"])
    audit_record(actor=user, action="shares.remove", request=request, target=share.name)
    shares_apply_queue()
    return share


def shares_retry(*, user, request=None) -> None:
    """Apply the stored shares again (after a disk came back, or Samba's configuration was fixed)."""
    Share.objects.filter(state=Share.State.FAILED).update(state=Share.State.PENDING, error="")
    audit_record(actor=user, action="shares.apply", request=request)
    shares_apply_queue()
