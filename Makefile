# Two entry points (see README): `make run` starts the demo, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: install run seed test test-sqlite test-postgres test-browser lint format typecheck \
        coverage docs bench build wheel-check browser-deps clean

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
	  else echo "chromium missing: sudo apt-get install chromium"; fi; }

## Everything CI runs: lint, types, SQLite + PostgreSQL suites with coverage, docs, wheel
test: install browser-deps lint test-sqlite test-postgres coverage

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy toolkit patterns_admin

test-sqlite: install
	COVERAGE_FILE=.coverage.sqlite $(BIN)/pytest --cov --cov-report= $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(PG_URL) COVERAGE_FILE=.coverage.postgres $(BIN)/pytest --cov --cov-report= $(PYTEST_ARGS)

coverage: install
	$(BIN)/coverage combine --keep .coverage.sqlite .coverage.postgres
	$(BIN)/coverage report --fail-under=90

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .coverage* htmlcov build dist site
