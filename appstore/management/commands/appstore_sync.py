"""`manage.py appstore_sync STORE_ID`: sync one store in this process (the worker runs it as a child process)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Fetch, read and swap one store's catalogue; the outcome is recorded on the store, as in the worker."

    def add_arguments(self, parser):
        parser.add_argument("store_id", type=int)

    def handle(self, *args, store_id: int, **options):
        from appstore.services import store_sync_run

        store_sync_run(store_id=store_id)
