# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PY := .venv/bin/python
export DJANGO_SETTINGS_MODULE ?= casaos_site.settings

.PHONY: run setup services migrate test test-setup lint format bench lock clean

run: setup services migrate   ## set up everything and serve the web admin with its workers
	@$(PY) manage.py preflight
	@echo "CasaOS is starting on http://$${CASAOS_BIND:-127.0.0.1:8000}/  (Ctrl-C stops it)"
	@exec .venv/bin/supervisord -c "$$($(PY) scripts/procfile.py supervisord)"

setup:
	@bash scripts/setup.sh

services:
	@bash scripts/services.sh

migrate:
	@$(PY) manage.py migrate --noinput -v 0

test-setup:
	@CASAOS_DEV=1 bash scripts/setup.sh
	@bash scripts/test-services.sh

PYTEST := CASAOS_REQUIRE_SERVICES=1 DJANGO_SETTINGS_MODULE=casaos_site.settings_test .venv/bin/pytest --durations=15
TEST_WORKERS ?= 3

test: test-setup   ## the same set-up plus test-only services, then the whole suite
	@.venv/bin/ruff check .
	@# Most of the suite waits on the engine, the browser and sockets: several processes share the cores well.
	@# Files in collection order (conftest puts the live-stack files last), not xdist's biggest-first: a live
	@# stack's worker would take the tasks that later in-process tests queue on the same broker.
	@$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not serial" $(PYTEST_ARGS)
	@# Tests that disturb shared services run alone; "no tests collected" (5) is fine when PYTEST_ARGS picks none.
	@$(PYTEST) -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint:
	@CASAOS_DEV=1 bash scripts/setup.sh >/dev/null
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench: test-setup   ## benchmarks: ratios against a baseline measured in the same run (over an hour: the growth figure)
	@# BENCH_QUICK=1: every figure but the hour-long growth one, fewer rounds, 256 MiB files: a few minutes.
	@DJANGO_SETTINGS_MODULE=casaos_site.settings_test $(PY) -m bench

lock:   ## re-resolve requirements*.in into the locks: exact versions and hashes, valid on every platform
	@CASAOS_DEV=1 bash scripts/setup.sh >/dev/null
	@.venv/bin/uv pip compile -q --universal --generate-hashes --python-version 3.11 requirements.in -o requirements.txt
	@.venv/bin/uv pip compile -q --universal --generate-hashes --python-version 3.11 requirements-dev.in -o requirements-dev.txt
	@echo "locks written: review 'git diff requirements*.txt', run make test, commit them with the .in change"

clean:
	rm -rf var/test var/staticfiles
