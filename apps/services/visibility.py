"""Who sees which app, and where each user's tiles sit: tile order and hiding, admin grants to members."""

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.services import audit_record

from ..models import AppGrant, AppTile, Installation
from ..selectors import app_visible


def tiles_reorder(*, user, order: list[int]) -> None:
    """Place the user's tiles in the given order of app ids (ids the user cannot see are ignored)."""
    visible = set(app_visible(user=user).values_list("pk", flat=True))
    with transaction.atomic():
        for position, pk in enumerate(pk for pk in dict.fromkeys(order) if pk in visible):
            AppTile.objects.update_or_create(user=user, installation_id=pk, defaults={"position": position})


def tile_hide(*, user, installation: Installation, hidden: bool) -> AppTile:
    """Hide a tile from the user's apps page (or show it again); the app itself is unchanged."""
    tile, _created = AppTile.objects.get_or_create(user=user, installation=installation, defaults={"position": 10_000})
    tile.hidden = hidden
    tile.save(update_fields=["hidden"])
    return tile


def app_grants_set(*, user, installation: Installation, member_ids: list[int], request=None) -> list[int]:
    """Let exactly these members see and open the app (admins see every app anyway)."""
    members = set(get_user_model().objects.filter(pk__in=member_ids, is_active=True).values_list("pk", flat=True))
    with transaction.atomic():
        AppGrant.objects.filter(installation=installation).exclude(user_id__in=members).delete()
        for pk in members:
            AppGrant.objects.get_or_create(installation=installation, user_id=pk)
        audit_record(
            actor=user,
            action="app.grants",
            request=request,
            target=installation.name,
            details={"members": sorted(members)},
        )
    return sorted(members)
