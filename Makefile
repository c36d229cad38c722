# Kartoteka: `make run` serves the portal with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEMO_CUSTOMERS ?= 2000

.PHONY: run test setup translations extract-messages system-deps lint format bench clean

setup: $(STAMP) translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Compiled catalogs (.mo) are build output, made from the committed .po files.
translations: $(STAMP)
	$(BIN)/pybabel compile -d translations >/dev/null

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo --customers $(DEMO_CUSTOMERS) --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here)
# and Noto CJK so Chinese renders in screenshots and PDFs.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
		echo "Installing Debian's chromium and fonts-noto-cjk..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: setup system-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache

# Benchmarks print tables and write bench/results/*.json. The workspace benchmark builds a
# 1,000,000-customer database once (about 12 minutes on SQLite) and reuses it.
bench: setup
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/demo_generation.py --customers 100000 --postgresql postgresql://postgres@127.0.0.1:5432/postgres
	$(BIN)/python bench/workspace_bench.py --engine sqlite
	$(BIN)/python bench/workspace_bench.py --engine postgresql
