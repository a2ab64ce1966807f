"""The ring files: a bounded store (constant size whatever is written), two tiers, gaps, pruning, safe names."""

import os
import time

from monitoring import store

DAY = 24 * 3600
T0 = 1_800_000_000  # a round time, so slots line up with the tiers' steps


def _size_and_files(root):
    return sum(p.stat().st_size for p in root.iterdir()), sorted(p.name for p in root.iterdir())


def test_it_keeps_the_same_size_after_writing_more_than_both_windows(tmp_path):
    keys = [("host", "cpu"), ("host", "net", "eth0", "rx"), ("app", "7", "memory")]
    store.store_write(tmp_path, dict.fromkeys(keys, 1.0), when=T0)
    size_after_one, files = _size_and_files(tmp_path)
    assert size_after_one == len(keys) * store.FILE_SIZE
    # 40 days at 5 min (past the coarse tier's 30 days), then 2 days at 10 s (past the fine tier's 24 hours)
    for when in range(T0, T0 + 40 * DAY, 300):
        store.store_write(tmp_path, dict.fromkeys(keys, 2.0), when=when)
    for when in range(T0 + 40 * DAY, T0 + 42 * DAY, 10):
        store.store_write(tmp_path, dict.fromkeys(keys, 3.0), when=when)
    assert _size_and_files(tmp_path) == (size_after_one, files)
    assert store.store_size(tmp_path) <= len(keys) * (store.FILE_SIZE + 4096)  # allocated: whole 4 KiB blocks
    assert store.FILE_SIZE == 207_360


def test_it_averages_the_samples_of_a_five_minute_slot(tmp_path):
    for offset, value in ((0, 10.0), (10, 20.0), (20, 60.0)):
        store.store_write(tmp_path, {("host", "cpu"): value}, when=T0 + offset)
    fine = store.store_read(tmp_path, ("host", "cpu"), tier=store.FINE, first=T0 // 10, count=4)
    coarse = store.store_read(tmp_path, ("host", "cpu"), tier=store.COARSE, first=T0 // 300, count=1)
    assert fine == [10.0, 20.0, 60.0, None]
    assert coarse == [30.0]


def test_an_overwritten_slot_reads_as_a_gap_not_as_the_old_value(tmp_path):
    store.store_write(tmp_path, {("host", "cpu"): 5.0}, when=T0)
    store.store_write(tmp_path, {("host", "cpu"): 9.0}, when=T0 + store.SLOTS * 10)  # the same place, a day later
    assert store.store_read(tmp_path, ("host", "cpu"), tier=store.FINE, first=T0 // 10, count=1) == [None]
    later = (T0 + store.SLOTS * 10) // 10
    assert store.store_read(tmp_path, ("host", "cpu"), tier=store.FINE, first=later, count=1) == [9.0]


def test_a_missing_series_reads_as_gaps(tmp_path):
    assert store.store_read(tmp_path, ("host", "nope"), tier=store.FINE, first=1, count=3) == [None] * 3


def test_it_names_files_so_no_key_part_leaves_the_store(tmp_path):
    key = ("host", "fs", "/../../etc/passwd", "percent")
    store.store_write(tmp_path / "metrics", {key: 1.0}, when=T0)
    [path] = (tmp_path / "metrics").iterdir()
    assert path.parent == tmp_path / "metrics" and "/" not in path.name
    assert store.store_series(tmp_path / "metrics") == [key]
    assert not (tmp_path / "etc").exists()


def test_it_prunes_stale_series_and_those_it_is_told_to_drop(tmp_path):
    store.store_write(tmp_path, {("app", "1", "cpu"): 1.0, ("app", "2", "cpu"): 1.0, ("host", "cpu"): 1.0}, when=T0)
    now = time.time()
    os.utime(tmp_path / "host+cpu.ring", (now - 31 * DAY, now - 31 * DAY))  # last written 31 days ago
    removed = store.store_prune(tmp_path, drop=lambda key: key[:2] == ("app", "2"), now=now)
    assert sorted(p.name for p in removed) == ["app+2+cpu.ring", "host+cpu.ring"]
    assert store.store_series(tmp_path) == [("app", "1", "cpu")]


def test_it_makes_no_series_past_the_limit_but_keeps_writing_the_ones_it_has(tmp_path):
    store.store_write(tmp_path, {("host", "cpu"): 1.0, ("host", "memory"): 2.0}, when=T0, max_series=2)
    refused = store.store_write(
        tmp_path, {("host", "cpu"): 3.0, ("host", "fs", "/tmp/x", "percent"): 4.0}, when=T0 + 10, max_series=2
    )
    assert refused == [("host", "fs", "/tmp/x", "percent")]
    assert store.store_series(tmp_path) == [("host", "cpu"), ("host", "memory")]
    assert store.store_read(tmp_path, ("host", "cpu"), tier=store.FINE, first=T0 // 10 + 1, count=1) == [3.0]
