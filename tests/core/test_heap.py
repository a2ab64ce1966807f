"""The worker gives back what a big task freed: with a threads pool, glibc would keep it in the thread's arena."""

import gc
import threading

import psutil
from celery.signals import task_postrun

from casaos_site import celery as celery_module
from casaos_site.heap import heap_trim

MB = 2**20


def _churn_in_a_thread(kept: list) -> None:
    def churn():
        data = [bytearray(4000) for _ in range(15_000)]  # ~60 MB in this thread's own arena
        kept.extend(data[::64])  # a few survivors pin the pages between them, as a sync's results do

    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()


def test_memory_a_thread_freed_goes_back_to_the_system():
    process, kept = psutil.Process(), []
    gc.collect()
    before = process.memory_info().rss
    _churn_in_a_thread(kept)
    held = process.memory_info().rss - before
    assert heap_trim()
    after = process.memory_info().rss - before
    assert held > 40 * MB, "the freed memory was given back without a trim: this test no longer shows anything"
    assert after < held - 30 * MB


def test_the_worker_trims_after_every_task():
    assert any(receiver() is celery_module._heap_trim for _key, receiver in task_postrun.receivers)
