# The two commands: `make run` (serve the forum with demo content) and `make test`;
# `make bench` (SIZE=S|M|L) measures the forum under load, see bench/run.py.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
SIZE ?= S
PORT ?= 5000

.PHONY: run test lint format install install-dev translations clean bench bench-smoke bench-mail

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

# The web server and the worker (mail, digests, purges) together; Ctrl-C stops both.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask forum seed-demo
	$(BIN)/flask forum worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install-dev lint
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Data sets are built once under bench/data/ (git-ignored), then reused; figures go to
# bench/RESULTS.md. FORUM_BENCH_DATABASE_URL=postgresql+psycopg://… adds PostgreSQL.
bench: install-dev
	$(BIN)/python bench/run.py --size $(SIZE)

# Size S (10k posts): figures printed, fails on errors or lost writes, never on slowness.
bench-smoke: install-dev
	$(BIN)/python bench/run.py --size S

# Replies while the SMTP server keeps every client waiting 20 s (printed figures).
bench-mail: install-dev
	$(BIN)/python bench/slow_smtp.py

translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations
	$(BIN)/pybabel compile -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
