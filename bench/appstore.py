"""App store benchmark: sync time of the official sample zip, and catalogue search over ~1,000 apps.

Run alone with `python -m bench.appstore` (or through `python -m bench`). Prints figures; the search figures
come with a ratio against a baseline measured in the same run (the unfiltered first page).
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench._report import row

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "appstore-samples" / "casaos-official"
COPIES = 6  # 6 x 167 = 1,002 apps
QUERIES = [
    "jellyfin",
    "media server",
    "photo",
    "vpn",
    "docker",
    "download",
    "backup",
    "ai",
    "dns",
    "music",
    "home automation",
    "password",
    "notes",
    "torrent",
    "dashboard",
    "database",
    "个人",
    "medien",
    "zzzz-none",
    "book",
]
FILTERS = [{}, {"category": "Media"}, {"author_type": "official"}, {"arch": "arm64"}]
PAGE = 24


def _setup_django() -> None:
    """Our own data directory and database unless a caller (bench/__main__) configured Django already."""
    from django.conf import settings

    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        os.environ["CASAOS_DATA_DIR"] = tempfile.mkdtemp(prefix="casaos-bench-appstore-")
        os.environ["DJANGO_SETTINGS_MODULE"] = "casaos_site.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _zip_sample(target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(SAMPLE.rglob("*")):
            if path.is_file():
                zf.write(path, "CasaOS-AppStore-main/" + path.relative_to(SAMPLE).as_posix())


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _search_once(query) -> None:
    """What the catalogue page does for one request: the count, one page of cards, the category counts."""
    from appstore.selectors import catalog_browse

    page, _categories = catalog_browse(query, page=1, size=PAGE)
    page.paginator.count
    list(page.object_list)


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    if not (SAMPLE / "Apps").is_dir():
        print(f"appstore: skipped, the official sample store is not at {SAMPLE}")
        return 0
    _setup_django()
    from appstore.models import AppstoreSettings, CatalogApp, Store
    from appstore.selectors import CatalogQuery
    from appstore.services import store_create, store_delete, store_sync_run

    AppstoreSettings.objects.update_or_create(pk=1, defaults={"allow_lan_stores": True})
    created: list[Store] = []
    with tempfile.TemporaryDirectory() as www:
        _zip_sample(Path(www) / "official.zip")
        httpd, base = _serve(Path(www))
        try:
            zip_store = store_create(user=None, url=f"{base}/official.zip", name="bench zip", sync=False)
            created.append(zip_store)
            started = time.perf_counter()
            store_sync_run(store_id=zip_store.pk)
            sync_s = time.perf_counter() - started
            started = time.perf_counter()
            store_sync_run(store_id=zip_store.pk)
            resync_s = time.perf_counter() - started
        finally:
            httpd.shutdown()
    zip_store.refresh_from_db()
    row(f"app store: sync of the official sample zip ({zip_store.app_count} apps)", f"{sync_s:.2f} s")
    print(
        f"appstore: sync of the official sample zip ({zip_store.app_count} apps, status {zip_store.status}): "
        f"{sync_s:.2f} s; unchanged re-sync (HTTP 304): {resync_s * 1000:.0f} ms"
    )
    try:
        for i in range(COPIES - 1):
            # The same store again under another id (the service refuses duplicates, so the row is made here).
            copy = Store.objects.create(kind=Store.Kind.FOLDER, path=str(SAMPLE), name=f"bench copy {i}")
            created.append(copy)
            store_sync_run(store_id=copy.pk)
        total = CatalogApp.objects.filter(store__in=created).count()
        baseline = _timed(lambda: _search_once(CatalogQuery()), 30)
        timings = []
        for text in QUERIES:
            for extra in FILTERS:
                query = CatalogQuery(search=text, **extra)
                _search_once(query)  # warm
                timings += _timed(lambda q=query: _search_once(q), 3)
        p50, p95 = statistics.median(timings), _percentile(timings, 95)
        base50 = statistics.median(baseline)
        print(
            f"appstore: catalogue search over {total} apps, {len(QUERIES)} queries x {len(FILTERS)} filter sets: "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p50 <= 20 ms: {'met' if p50 <= 20 else 'MISSED'}); "
            f"unfiltered first page p50 {base50:.1f} ms; ratio search/unfiltered {p50 / base50:.2f}"
        )
        row(
            f"catalogue search over {total} apps, p50 vs the unfiltered first page",
            f"{p50:.1f} ms",
            f"{base50:.1f} ms",
            p50 / base50,
            "p50 <= 20 ms",
            p50 <= 20,
        )
    finally:
        for store in created:
            store_delete(user=None, store=store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
