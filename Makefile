# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit setup bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

setup: $(STAMP)

## Start personae on SQLite (./var) with demo data, on http://127.0.0.1:8000
run: $(STAMP)
	PERSONAE_DATA_DIR=$${PERSONAE_DATA_DIR:-var} $(BIN)/personae serve --demo

## ruff, mypy --strict on src/, and every test (PostgreSQL too when PERSONAE_TEST_DATABASE_URL is set)
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench.registry --quick
	$(BIN)/python -m bench.passes --quick
	$(BIN)/python -m bench.translog --quick
	$(BIN)/python -m bench.moderation --quick
	$(BIN)/python -m bench.retention --quick
	$(BIN)/python -m bench.pages --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
