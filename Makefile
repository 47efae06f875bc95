# Two commands run everything: `make run` and `make test`. Both set themselves up on a fresh
# clone (a .venv with the project installed) and skip what is already done.
# `make bench` runs every benchmark; `make bench BENCH="population quantify"` runs those only.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export NBS_DATABASE_URL ?= sqlite:///var/nbs.db

.PHONY: run test bench lint install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/nbs init-db
	$(BIN)/nbs serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache .ruff_cache
