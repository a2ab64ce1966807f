import pytest

from tests.apps.test_change import moving_tag  # noqa: F401 (a fixture the app-page tests share)


@pytest.fixture(autouse=True, scope="module")
def idle_worker(live_stack):
    """Each browser module starts with an idle worker and an empty queue."""
    live_stack.restart_worker()
