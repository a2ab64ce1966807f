import pytest


@pytest.fixture
def metrics_dir(settings, tmp_path):
    """A metrics history of the test's own."""
    settings.METRICS_DIR = tmp_path / "metrics"
    return settings.METRICS_DIR
