"""Which companions the worker starts as threads: each can move to a process of its own."""

from casaos_site.background import _jobs


def test_every_companion_runs_in_the_worker_by_default(settings):
    settings.WORKER_BEAT = settings.WORKER_HOTPLUG = True
    assert set(_jobs()) == {"system-monitor", "app-events", "storage-hotplug", "beat"}


def test_the_hotplug_listener_and_beat_can_run_apart(settings):
    settings.WORKER_BEAT = settings.WORKER_HOTPLUG = False
    assert set(_jobs()) == {"system-monitor", "app-events"}
