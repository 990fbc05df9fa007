# One task runner (STYLE 14). `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the accessibility test, from the npm registry at the version tests/axe pins
AXE := tests/axe/node_modules/axe-core/axe.min.js

.PHONY: run test lint bench eval-oversight clean catalog

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(AXE): tests/axe/package.json tests/axe/package-lock.json
	npm ci --prefix tests/axe --no-audit --no-fund --loglevel=error
	touch $(AXE)

## run: set up, initialise the database with the demo world (once), serve on http://127.0.0.1:8000
## (webhooks may go to loopback addresses, where `pars demo --receiver` listens)
run: export PARS_WEBHOOK_PRIVATE_TARGETS ?= loopback
run: $(STAMP)
	$(BIN)/pars init
	test -f demo-keys.json || $(BIN)/pars demo
	$(BIN)/pars serve --host 127.0.0.1 --port 8000

## test: set up and run every test, on SQLite and on PostgreSQL
test: $(STAMP) $(AXE)
	$(BIN)/pytest

## lint: ruff, ruff format, mypy --strict on src and tests, and the layering contract (.importlinter)
lint: $(STAMP)
	$(BIN)/ruff check src tests bench evaluation
	$(BIN)/ruff format --check src tests bench evaluation
	$(BIN)/mypy src tests
	$(BIN)/lint-imports

## bench: every benchmark on SQLite and PostgreSQL (under 15 minutes); bench/results.json, the table, docs/performance.md regenerated
bench: $(STAMP)
	$(BIN)/python bench/suite.py
	$(BIN)/python bench/report.py

## eval-oversight: the misuse detectors on seeded synthetic worlds (3 seeds, six weeks of partner traffic each); a Markdown table
eval-oversight: $(STAMP)
	$(BIN)/python evaluation/oversight.py --seeds 1,2,3 --weeks 6 --json evaluation/results.json

## catalog: rebuild the packaged offense catalog from ../shared/data
catalog: $(STAMP)
	$(BIN)/python -m pars.catalog.build

clean:
	rm -rf $(VENV) tests/axe/node_modules pars.db pars.db-wal pars.db-shm demo-keys.json .pytest_cache .mypy_cache .ruff_cache
