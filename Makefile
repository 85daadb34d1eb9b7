# Two entry points (see README): `make run` starts the demo, `make test` runs every test and gate.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# Extra pytest arguments for both passes, e.g. `make test-sqlite PYTEST_ARGS="-x tests/toolkit"`.
PYTEST_ARGS ?=
# A hung test fails after this many seconds instead of eating CI's 90 minutes.
PYTEST_TIMEOUT ?= 300
# pytest exits 5 when a selection collects no test: that is not a failure of the gate.
PYTEST_OK := || [ $$? -eq 5 ]
# A throw-away secret for the production-settings check (never used to serve anything).
DEPLOY_SECRET := check-deploy-$(shell date +%s)-9f3c2b7e1d5a4c8b6e0f2a9d7c5b3e1f8a6d4c2b0e9f7a5c3

.PHONY: install run seed test gates test-sqlite test-postgres test-browser lint format typecheck \
        lint-imports migrations-check deploy-check coverage docs docs-serve bench build wheel-check \
        browser-deps memcached-deps pre-commit clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Demo site on SQLite with sample data, on http://127.0.0.1:8000/
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py runserver 127.0.0.1:8000

seed: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

## Debian's chromium for the Playwright browser tests (never a downloaded browser)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium"; exit 1; fi; }
	@command -v chromium >/dev/null 2>&1 && echo "chromium: $$(command -v chromium)"

## Debian's memcached for the cache layer's Memcached tests (they start their own server)
memcached-deps:
	@command -v memcached >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq memcached >/dev/null; } \
	    || echo "memcached could not be installed: its tests are skipped"; \
	  else echo "memcached missing: sudo apt-get install memcached (its tests are skipped)"; fi; }

## Everything CI runs (.ci/run), cheapest gate first; each one fails the run.
test: install browser-deps memcached-deps gates
	@echo "make test: every gate passed"

gates:
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) migrations-check
	$(MAKE) deploy-check
	rm -f .coverage .coverage.sqlite .coverage.postgres
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) coverage
	$(MAKE) docs
	$(MAKE) wheel-check

## --no-cache: a stale .ruff_cache can hide errors that a fresh clone (CI) reports.
lint: install
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .
	$(MAKE) lint-imports

## The architecture contracts of pyproject.toml [tool.importlinter]: no package cycles, the
## layers, and a pure core that imports no Django adapter.
lint-imports: install
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy toolkit patterns_admin

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

## The production settings example must pass Django's deployment checklist, warnings included.
deploy-check: install
	DJANGO_SETTINGS_MODULE=demo.settings_production DJANGO_SECRET_KEY=$(DEPLOY_SECRET) \
	DJANGO_ALLOWED_HOSTS=patterns.example.com \
	  $(PY) manage.py check --deploy --fail-level WARNING

## Whole suite on SQLite, then the browser flows (screenshots to a temp dir; SAVE_SCREENSHOTS=1
## writes docs/screenshots/*.png) in a
## second process: Playwright's sync API keeps an asyncio loop running in the main thread for
## the whole session, which breaks asyncio.run()/async_to_sync in tests that would follow it.
test-sqlite: install
	COVERAGE_FILE=.coverage.sqlite $(BIN)/pytest --cov --cov-report= \
	  --timeout=$(PYTEST_TIMEOUT) -m "not browser" $(PYTEST_ARGS) $(PYTEST_OK)
	COVERAGE_FILE=.coverage.sqlite $(BIN)/pytest --cov --cov-append --cov-report= \
	  --timeout=$(PYTEST_TIMEOUT) -m browser $(PYTEST_ARGS) $(PYTEST_OK)

## Whole suite on PostgreSQL; the browser flows already ran in the SQLite pass.
test-postgres: install
	DATABASE_URL=$(PG_URL) COVERAGE_FILE=.coverage.postgres $(BIN)/pytest --cov --cov-report= \
	  --timeout=$(PYTEST_TIMEOUT) -m "not browser" $(PYTEST_ARGS) $(PYTEST_OK)

test-browser: install browser-deps
	$(BIN)/pytest -m browser --timeout=$(PYTEST_TIMEOUT) $(PYTEST_ARGS) $(PYTEST_OK)

## Branch coverage of toolkit + patterns_admin over both passes, at least 90%.
coverage: install
	$(BIN)/coverage combine --keep $(wildcard .coverage.sqlite .coverage.postgres)
	$(BIN)/coverage report --fail-under=90

## The documentation site, warnings are errors (output in site/).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

## Every benchmark in bench/, each in its own process with its MAKE_BENCH_ARGS; writes
## bench/results/<time>.json (+ latest.json) and regenerates the README's tables from the run.
## `make bench BENCH="state_machine lazy"` runs a selection (only their README blocks change).
BENCH ?=
bench: install
	$(PY) -m bench $(BENCH)

## Wheel + sdist in dist/, checked by twine.
build: install
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

## Installs the wheel into a fresh venv outside the checkout and runs the demo against it.
wheel-check: install
	PYTHON=$(PY) scripts/check_wheel.sh

pre-commit: install
	$(BIN)/pre-commit run --all-files

clean:
	rm -rf $(VENV) .coverage* htmlcov build dist site
