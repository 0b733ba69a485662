# The two commands: `make run` (serve the forum with demo content) and `make test`;
# `make bench` (SIZE=S|M|L) measures the forum under load, see bench/run.py.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
SIZE ?= S
# Installs come from the lock files (exact versions, hashes for Linux x86_64 and aarch64);
# pyproject.toml keeps the ranges. `make lock` refreshes them with uv, pinned here.
UV_VERSION := 0.13.8
LOCK_PYTHON := 3.11
LOCK_FLAGS := --universal --python-version $(LOCK_PYTHON) --generate-hashes --quiet \
	--custom-compile-command "make lock"
STALE_LOCK := echo "requirements/*.lock lag behind pyproject.toml: run make lock" >&2; exit 1

PORT ?= 5000

.PHONY: run test lint format install install-dev translations clean bench bench-smoke bench-mail bench-writes lock lock-upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/main.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check >/dev/null || { $(BIN)/pip check; $(STALE_LOCK); }

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check >/dev/null || { $(BIN)/pip check; $(STALE_LOCK); }

# Resolve pyproject.toml again into requirements/dev.lock (runtime + dev, postgres, redis)
# and requirements/main.lock (runtime, the same versions). Versions already locked are
# kept while they still fit; `make lock-upgrade` moves everything to the newest allowed.
lock: $(BIN)/python
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	mkdir -p requirements
	@# A lock file left with merge-conflict markers: our side stays as the preferences.
	@for f in requirements/dev.lock requirements/main.lock; do \
		if [ -f $$f ] && grep -q '^<<<<<<< ' $$f; then \
			awk '/^<<<<<<< /{s=1;next} /^[|]{7} /{s=2;next} /^=======$$/{if(s){s=2;next}} \
				/^>>>>>>> /{s=0;next} s!=2' $$f > $$f.tmp && mv $$f.tmp $$f; \
		fi; \
	done
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --extra redis \
		$(LOCK_FLAGS) $(UPGRADE) -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements/dev.lock \
		$(LOCK_FLAGS) $(UPGRADE) -o requirements/main.lock

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

# The web server and the worker (mail, digests, purges) together; Ctrl-C stops both.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask forum seed-demo
	$(BIN)/flask forum worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with a PostgreSQL and a
# Redis database of its own (tests/conftest.py); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3
test: install-dev lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Data sets are built once under bench/data/ (git-ignored), then reused; figures go to
# bench/RESULTS.md. FORUM_BENCH_DATABASE_URL=postgresql+psycopg://… adds PostgreSQL.
# Then the 500-post thread page with and without positions and reactions (bench/debate.py).
bench: install-dev
	$(BIN)/python bench/run.py --size $(SIZE)
	$(BIN)/python -m bench.debate

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

# Render and display times of hostile Markdown bodies (forum/hostile.py); target < 0.3 s.
.PHONY: bench-hostile
bench-hostile: install-dev
	$(BIN)/python bench/hostile.py

# The write mix alone (20 writers, replies and private messages), with each worker's peak RSS.
bench-writes: install-dev
	$(BIN)/python bench/writes.py

# Two app nodes (gunicorn) and two workers on PostgreSQL (FORUM_TEST_DATABASE_URL, schema
# `scale`) and Redis (database 1): sessions, login lock, page cache across nodes, then a
# node and a worker killed with SIGKILL under load (bench/scale.py; printed figures).
.PHONY: scale-test
scale-test: install-dev
	$(BIN)/python bench/scale.py --writers 20 --replies 10
