# The two commands: `make run` (serve the forum with demo content) and `make test`;
# `make bench` (SIZE=S|M|L) measures the forum under load, see bench/run.py.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
SIZE ?= S

.PHONY: run test lint format install install-dev translations clean bench bench-smoke

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask forum seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

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

translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations
	$(BIN)/pybabel compile -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# Render and display times of hostile Markdown bodies (forum/hostile.py); target < 0.3 s.
.PHONY: bench-hostile
bench-hostile: install-dev
	$(BIN)/python bench/hostile.py
