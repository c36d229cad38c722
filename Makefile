# Kartoteka: `make run` serves the portal with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEMO_CUSTOMERS ?= 2000

.PHONY: run test setup translations extract-messages fonts system-deps lint format bench clean

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

# The job worker runs beside the web server and stops with it. The development server speaks
# plain HTTP, so the session cookie is not marked Secure here (it is by default). Links in mail
# the worker sends (unsubscribe) point at this server.
run: setup fonts
	$(FLASK) db upgrade
	$(FLASK) demo --customers $(DEMO_CUSTOMERS) --if-empty
	@mkdir -p instance
	PUBLIC_URL=http://127.0.0.1:5000 $(BIN)/huey_consumer portal.jobs.huey --workers 2 --delay 0.2 --max-delay 1 --logfile instance/worker.log & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SESSION_COOKIE_SECURE=0 $(FLASK) run --host 127.0.0.1 --port 5000

# PDFs: DejaVu Sans for Latin (Polish included) and Cyrillic, Noto Sans CJK for Chinese
# (WeasyPrint draws empty boxes, without a warning, when a script has no font).
fonts:
	@if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
		echo "Installing Debian's fonts-noto-cjk and fonts-dejavu-core..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-noto-cjk fonts-dejavu-core >/dev/null; \
	fi

# Tests also need Debian's Chromium (Playwright cannot download its own browser here),
# poppler-utils (pdftoppm, to look at PDF pages) and the PostgreSQL client tools.
system-deps: fonts
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null; then \
		echo "Installing Debian's chromium and poppler-utils..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium poppler-utils >/dev/null; \
	fi
	@if ! command -v pg_dump >/dev/null; then \
		echo "Installing Debian's postgresql-client (pg_dump, pg_restore: backups on PostgreSQL)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-client >/dev/null; \
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
# 1,000,000-customer database once (about 12 minutes on SQLite) and reuses it; the import
# benchmark ends with a 1,000,000-row import (about 12 minutes; --skip-million leaves it out).
# The load benchmark (Locust, from the bench extra) holds 50 staff for 60 s on each engine.
bench: setup
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/demo_generation.py --customers 100000 --postgresql postgresql://postgres@127.0.0.1:5432/postgres
	$(BIN)/python bench/workspace_bench.py --engine sqlite
	$(BIN)/python bench/workspace_bench.py --engine postgresql
	$(BIN)/python bench/import_bench.py --postgresql postgresql://postgres@127.0.0.1:5432/postgres
	$(BIN)/python bench/load_bench.py --engine both --users 50 --duration 60 --postgresql postgresql://postgres@127.0.0.1:5432/postgres
