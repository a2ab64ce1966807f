"""Routing to the two queues, and how the worker's slots are split between them (casaos_site/queues.py)."""

import pytest

from casaos_site.celery import app
from casaos_site.queues import DEFAULT, LONG, operation_queue, slots_split


@pytest.mark.parametrize(
    "task", ["apps.uninstall", "apps.update_check", "appstore.sync_store", "files.tasks.filetask_run"]
)
def test_long_tasks_go_to_the_long_queue(task):
    assert app.amqp.router.route({}, task)["queue"].name == LONG


@pytest.mark.parametrize("task", ["apps.install", "apps.operation", "apps.reconcile", "files.tasks.thumbnail_make"])
def test_short_tasks_stay_in_the_default_queue(task):
    assert app.amqp.router.route({}, task)["queue"].name == DEFAULT


@pytest.mark.parametrize(
    "operation, queue",
    [("uninstall", LONG), ("update", LONG), ("start", DEFAULT), ("stop", DEFAULT), ("settings", DEFAULT)],
)
def test_operations_on_an_app_are_queued_by_their_kind(operation, queue):
    assert operation_queue(operation) == queue


@pytest.mark.parametrize(
    "concurrency, asked, split", [(6, 2, (4, 2)), (2, 2, (1, 1)), (3, 5, (1, 2)), (1, 2, (1, 1)), (4, 0, (3, 1))]
)
def test_each_queue_gets_a_slot_and_short_ones_keep_the_rest(concurrency, asked, split):
    assert slots_split(concurrency, asked) == split


def test_the_pool_has_room_for_both(settings):
    assert settings.CELERY_WORKER_CONCURRENCY == settings.WORKER_SHORT_SLOTS + settings.WORKER_LONG_SLOTS
