# twinrail: `make run` and `make test` work on a fresh machine (they create .venv themselves).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

node_modules/.package-lock.json: package-lock.json  # anvil, the local EVM node, from npm
	npm ci --no-audit --no-fund --loglevel=error

run: $(VENV)/.installed-run node_modules/.package-lock.json  ## API, worker, anvil and a sandbox bank on the embedded default; Ctrl-C stops
	$(BIN)/twinrail up

test: $(VENV)/.installed-dev  ## the whole suite (PostgreSQL/NATS tests run when configured)
	$(BIN)/pytest

check: $(VENV)/.installed-dev  ## format, lint, types, import layering
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.installed-dev  ## ledger benchmark on PostgreSQL; prints one JSON line
	$(BIN)/python bench/ledger.py --db $${TWINRAIL_BENCH_DB:-postgresql://postgres@127.0.0.1/twinrail_bench} --clients 4

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
