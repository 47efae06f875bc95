# Two commands run everything: `make run` and `make test`. Both set themselves up on a fresh
# clone (a .venv with the project installed) and skip what is already done.
# `make bench` runs every benchmark; `make bench BENCH="population quantify"` runs those only.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export NBS_DATABASE_URL ?= sqlite:///var/nbs.db

.PHONY: run test bench lint install clean browser

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

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright), with a
# CJK font so that the Chinese pages' screenshots are legible.
browser:
	@test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		 chromium fonts-wqy-microhei)

# Four workers on two cores: much of the suite waits on PostgreSQL, the browser and the `nbs`
# processes it starts, and the other workers use the cores meanwhile.
TEST_WORKERS ?= 4

test: lint browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache .ruff_cache
