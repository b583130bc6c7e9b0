# Two commands: `make run` (try it) and `make test` (prove it). Python 3.11 and git suffice.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/lib/chromium/chromium

.PHONY: run test lint format worker beat migrate messages demo clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

## Compile the recipients' pages' translations (pure Python, no GNU gettext needed).
messages: $(VENV)/.installed
	@bin/compile-messages

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

migrate: messages
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

## Start the web server on 127.0.0.1:8000 and a Celery worker; Ctrl-C stops both.
run: demo
	@bin/run-trial

## Production runs workers and exactly one beat (the campaign scheduler) apart.
worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=info

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --schedule=var/celerybeat-schedule --loglevel=info

## Install what the tests need (Chromium and redis-server included) and run the whole suite.
test: export CELERY_FILESYSTEM_DIR ?= $(CURDIR)/var/celery-test
test: $(VENV)/.installed-test messages
	@test -x $(CHROMIUM) || bin/apt-install "Chromium (browser tests)" chromium fonts-liberation
	@command -v redis-server >/dev/null || bin/apt-install "redis-server (tests with a Redis of their own)" redis-server
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks through the real Celery path: a 200k-row import (BENCH_IMPORT_ROWS,
## BENCH_IMPORT_ROWS_LARGE) and a 200k-contact campaign on two workers against one task per
## contact (BENCH_CAMPAIGN_*); and the landing page on gunicorn under wrk against a bare
## Django view (BENCH_LANDING_*; PostgreSQL only; installs wrk with apt when root); the review
## pages at a million contacts (BENCH_REVIEW_*; PostgreSQL only). The campaign is sent again
## on one worker, beside the two. BENCH_SCALE=million adds a 1M-row import and a 1M-contact
## campaign; BENCH_SCALE=huge also the pages at 100M messages (BENCH_HUGE_*; PostgreSQL only).
## BENCH_ONLY=import|campaign|landing|api|review|huge runs one part.
## Prints `BENCH <name> <value> <unit>` lines.
bench: $(VENV)/.installed messages migrate
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var db.sqlite3 test-results
