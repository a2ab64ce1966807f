"""Shares follow the disks: when storage's inventory changes (a disk mounted, unmounted, removed), shares on a disk or
pool are applied again, so a share never serves the empty mount point of a disk that went away."""

from casaos_site.events import listen

INVENTORY_EVENT = "storage.inventory"  # storage.inventory's (not imported: it would load storage's host code)


def on_inventory(event: str, data: dict) -> None:
    """Queue an apply when any share lies on a disk or a pool ("@<name>/...")."""
    from .models import Share
    from .tasks import shares_apply

    if Share.objects.filter(place__startswith="@").exists():
        shares_apply.delay()


listen(INVENTORY_EVENT, on_inventory)
