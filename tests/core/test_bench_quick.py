"""`make bench BENCH_QUICK=1`: every benchmark module but the hour-long growth one, with the quick settings."""

import os

import pytest

import bench.__main__ as runner


@pytest.fixture
def ran(monkeypatch):
    """Modules the runner would start, with the settings they would get; none is really run."""
    seen: dict[str, dict] = {}

    def fake_run(name, rows):
        seen[name] = {key: os.environ.get(key) for key in runner.QUICK}
        return 0

    monkeypatch.setattr(runner, "_run", fake_run)
    for key in runner.QUICK:
        monkeypatch.delenv(key, raising=False)
    return seen


def test_quick_mode_runs_every_module_but_the_hour_long_one_with_its_settings(ran, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_QUICK", "1")
    monkeypatch.setenv("CASAOS_BENCH_RUNS", "4")  # set by hand: it wins
    assert runner.main([]) == 0
    assert sorted(ran) == sorted(set(runner.modules()) - {"growth"}) and "files" in ran
    assert ran["files"]["CASAOS_BENCH_FILE_MIB"] == "256" and ran["files"]["CASAOS_BENCH_RUNS"] == "4"
    assert "Quick mode" in capsys.readouterr().out


def test_the_full_run_includes_the_hour_and_the_default_settings(ran, monkeypatch, capsys):
    monkeypatch.delenv("BENCH_QUICK", raising=False)
    assert runner.main([]) == 0
    assert sorted(ran) == runner.modules() and ran["growth"]["CASAOS_BENCH_FILE_MIB"] is None
    assert "Quick mode" not in capsys.readouterr().out
