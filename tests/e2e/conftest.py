import pytest


@pytest.fixture(autouse=True, scope="module")
def idle_worker(live_stack):
    """Each browser module starts with an idle worker and an empty queue."""
    live_stack.restart_worker()
