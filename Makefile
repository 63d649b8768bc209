# The two commands of the quick start are `make run` and `make test`; see README.md.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint format migrate messages bench bench-full

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Web, Celery worker and beat (Procfile.dev, run by honcho through config/run_dev.py, which
# lets Ctrl-C stop them cleanly) on SQLite with demo data and the embedded filesystem
# broker: needs no PostgreSQL and no Redis.
run: export PORT ?= 8000
run: export DJANGO_DEBUG ?= 1
run: export PATH := $(abspath $(VENV))/bin:$(PATH)
run: install .env
	$(PYTHON) manage.py migrate --no-input
	$(PYTHON) manage.py load_demo_data
	$(PYTHON) -m config.run_dev --port $(PORT)

# Untracked; manage.py reads it, so the README's commands work here outside `make run` too.
.env:
	printf '%s\n' '# Written by make run for development (manage.py reads it). Never use it on a server.' 'DJANGO_DEBUG=1' > $@

# The whole suite, against PostgreSQL and Redis on 127.0.0.1 (see README.md).
test: install
	$(PYTHON) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PYTHON) .ci/audit.py
	promtool check rules monitoring/alerts.rules.yml && promtool test rules monitoring/alerts.test.yml && $(PYTHON) monitoring/check_monitoring.py

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	$(PYTHON) manage.py migrate --no-input

# The back office's Chinese catalogue (docs/back-office.md): new strings into the .po, to be
# translated by hand, then the .mo that is committed with it. Needs GNU gettext.
messages: export DJANGO_DEBUG ?= 1
messages: install
	$(PYTHON) manage.py makemessages -l zh_Hans --no-obsolete --no-location --ignore=inventory/api \
		--ignore=.venv --ignore=tests --ignore=var --ignore=artifacts --ignore=staticfiles --ignore=docs
	$(PYTHON) manage.py compilemessages --ignore=.venv

# Load benchmarks (benchmarks/RESULTS.md): gunicorn on 127.0.0.1 (and a second one with the
# sold-out gate off, for a moment), PostgreSQL databases inventory_bench_*, Redis db 7.
# `bench` is the short version; `bench-full` runs every scenario at full size three times
# and profiles the workers.
bench: install
	$(PYTHON) -m pip install --quiet -r benchmarks/requirements.txt
	$(PYTHON) -m benchmarks.run

bench-full: install
	$(PYTHON) -m pip install --quiet -r benchmarks/requirements.txt
	$(PYTHON) -m benchmarks.run --full --profile
