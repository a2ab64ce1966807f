"""Queue latency: a task queued while a long one holds a worker slot starts in the free slot, not behind it; long
operations have a queue and slots of their own, so even a pool full of them never holds a short one back."""

import time

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_short_task_is_taken_while_a_long_one_runs_in_the_other_slot():
    import redis as redis_lib
    from celery import Celery

    from tests.apps.test_worker_crash import BROKER, Worker

    broker = redis_lib.Redis.from_url(BROKER)
    broker.flushdb()
    worker = Worker("--include=tests.core.busy_tasks", "--concurrency=3")  # the pool of the settings (threads)
    worker.env["CASAOS_LONG_WORKERS"] = "1"  # two short slots: the long task below holds one of them
    worker.start()
    try:
        sender = Celery(broker=BROKER, set_as_current=False)
        sender.send_task("tests.hold", args=[120])
        _wait_until(lambda: b"tests.hold" in worker.log_path.read_bytes(), "the long task did not start")
        sender.send_task("tests.stamp", args=["short-ran"])
        _wait_until(lambda: broker.get("short-ran"), "the short task waited behind the long one")
        # The short one ran while the long one still holds its slot: it was not reserved behind it.
        active = sender.control.inspect(timeout=5).active() or {}
        assert [t["name"] for tasks in active.values() for t in tasks] == ["tests.hold"]
    finally:
        worker.kill()
        broker.flushdb()


def test_a_short_task_is_not_held_back_while_long_ones_fill_their_slots():
    import redis as redis_lib
    from celery import Celery

    from casaos_site.celery import queued_args
    from casaos_site.queues import LONG
    from tests.apps.test_worker_crash import BROKER, Worker

    broker = redis_lib.Redis.from_url(BROKER)
    broker.flushdb()
    worker = Worker("--include=tests.core.busy_tasks")  # two slots: one short, one long
    worker.start()
    try:
        sender = Celery(broker=BROKER, set_as_current=False)
        for _ in range(3):  # more long operations than long slots: one runs, two wait in their queue
            sender.send_task("tests.hold", args=[120], queue=LONG)
        _wait_until(lambda: b"tests.hold" in worker.log_path.read_bytes(), "the long task did not start")
        sent = time.time()
        sender.send_task("tests.stamp", args=["short-ran"])
        _wait_until(lambda: broker.get("short-ran"), "the short task waited behind the long ones")
        waited = float(broker.get("short-ran")) - sent
        active = sender.control.inspect(timeout=5).active() or {}
        assert [t["name"] for tasks in active.values() for t in tasks] == ["tests.hold"]
        # The waiting long ones were not reserved (they stay readable in their queue) nor run in a short slot.
        assert len(broker.lrange(LONG, 0, -1)) == 2
        assert queued_args("tests.hold", celery_app=sender) == {(120,)}  # what the reconcilers read
        assert waited < 2, f"the short task started {waited:.2f} s after it was queued"
    finally:
        worker.kill()
        broker.flushdb()


def test_the_worker_reserves_no_more_than_it_runs(settings):
    # Acknowledged after the task (a killed worker's task is delivered again) and one message per slot: a prefetched
    # message would wait behind a running task (prefork) or be invisible to the queue readers of the reconcilers.
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def _wait_until(check, message: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
