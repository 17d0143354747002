# IOP Clinic: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# The demo: DEBUG on, SQLite file in var/ unless DATABASE_URL says otherwise.
DEMO_ENV := DEBUG=true
# Tests run with DEBUG off, as production does; only the HTTPS redirect is off because the
# test client and the live server speak plain HTTP. Playwright's sync API runs an event loop
# in the test thread, so Django's async-safety guard is lifted for the tests.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-never-used-outside-the-test-suite} \
	SECURE_SSL_REDIRECT=false DJANGO_ALLOW_ASYNC_UNSAFE=true
# A production-shaped configuration, to prove `check --deploy` is clean. The model
# checks ask the PostgreSQL server what it supports, so it must answer.
DEPLOY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
DEPLOY_ENV := DEBUG=false ALLOWED_HOSTS=clinic.example.org \
	CSRF_TRUSTED_ORIGINS=https://clinic.example.org \
	DATABASE_URL=$(DEPLOY_DATABASE_URL) \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')

# The benchmark: its own databases on the local server (never the development or the
# test database), created if missing, migrated, filled once by generate_scale_data
# (--reuse keeps an existing dataset) and measured by run_bench. DEBUG off, as in
# production; the dataset is invented, hence --i-know-this-is-not-production.
BENCH_SERVER ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= iopclinic_bench
BENCH_DEMO_DB ?= iopclinic_bench_demo
BENCH_CLIENTS ?= 50000
BENCH_ENV := $(TEST_ENV) DEBUG=false
BENCH_GENERATE := generate_scale_data --reuse --i-know-this-is-not-production

# Backups (iopclinic/backup.py): pg_dump of DATABASE_URL (from the environment, else
# .env) into BACKUP_DIR; restore FILE into TARGET_DATABASE_URL, an empty database.
BACKUP_DIR ?= backups

.PHONY: help install run demo test lint format typecheck migrations-check check-deploy serve bench bench-pytest ci clean backup restore pitr-rehearsal audit-deps

help:
	@echo "make run               set up everything and serve the demo at http://$(HOST):$(PORT)/admin/"
	@echo "make test              the whole test suite (PostgreSQL when DATABASE_URL points at it)"
	@echo "make lint | format | typecheck | migrations-check | check-deploy | ci"
	@echo "make bench             time the admin at 50,000 clients / 5M attendance rows (bench/results.md)"
	@echo "make serve             production server (gunicorn + whitenoise); needs .env or env vars"
	@echo "make backup            pg_dump DATABASE_URL into $(BACKUP_DIR)/ with a checksum manifest"
	@echo "make restore FILE=... TARGET_DATABASE_URL=...   restore into an empty database, verified"
	@echo "make pitr-rehearsal    point-in-time recovery rehearsed on a throwaway cluster"
	@echo "make audit-deps        pip-audit the locked dependencies (needs PyPI/OSV)"

$(UV):
	@py=$$(.ci/find-python) && echo "Installing uv $(UV_VERSION) with $$py" && \
	  "$$py" -m pip install --user --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	@py=$$(.ci/find-python) && $(UV) sync --frozen --python "$$py"
	@touch $@

install: .venv/.synced

demo: install
	$(DEMO_ENV) $(MANAGE) migrate --no-input
	$(DEMO_ENV) $(MANAGE) load_demo

run: demo
	@echo "Serving the demo admin at http://$(HOST):$(PORT)/admin/ (Ctrl-C stops it)"
	$(DEMO_ENV) $(MANAGE) runserver $(HOST):$(PORT)

test: install
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

typecheck: install
	$(TEST_ENV) $(PY) -m mypy .

migrations-check: install
	$(DEMO_ENV) $(MANAGE) makemigrations --check --dry-run

check-deploy: install
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

serve: install
	set -a; [ -f .env ] && . ./.env; set +a; \
	  $(MANAGE) check --deploy --fail-level WARNING && \
	  $(MANAGE) collectstatic --no-input -v0 && \
	  $(MANAGE) migrate --no-input && \
	  .venv/bin/gunicorn -c python:iopclinic.gunicorn iopclinic.wsgi

backup: install
	@[ -n "$$DATABASE_URL" ] || { set -a; [ -f .env ] && . ./.env; set +a; }; \
	  $(PY) -m iopclinic.backup dump --dir "$(BACKUP_DIR)"

restore: install
	@[ -n "$(FILE)" ] && [ -n "$(TARGET_DATABASE_URL)" ] || { \
	  echo "usage: make restore FILE=backups/<name>.dump TARGET_DATABASE_URL=postgres://.../<empty db> [FORCE=1]"; \
	  exit 2; }
	@$(PY) -m iopclinic.backup restore "$(FILE)" --target "$(TARGET_DATABASE_URL)" \
	  $(if $(FORCE),--force,)

# Point-in-time recovery rehearsed on a throwaway cluster (never the real one).
pitr-rehearsal:
	@.ci/pitr-rehearsal

# Known vulnerabilities in the locked dependencies (PyPI's advisory data via pip-audit).
audit-deps: install
	@.ci/audit-deps

bench: install
	@for db in $(BENCH_DB) $(BENCH_DEMO_DB); do \
	  psql "$(BENCH_SERVER)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$$db'" \
	    | grep -q 1 || psql "$(BENCH_SERVER)/postgres" -qc "CREATE DATABASE $$db"; \
	done
	@echo "Demo-sized dataset (300 clients): query counts to compare with"
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DEMO_DB) $(MANAGE) migrate --no-input -v0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DEMO_DB) $(MANAGE) $(BENCH_GENERATE) --clients 300
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DEMO_DB) $(MANAGE) refresh_report_rollups
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DEMO_DB) $(MANAGE) run_bench \
	  --queries-only var/bench-demo-queries.json
	@echo "Full dataset ($(BENCH_CLIENTS) clients): timed, tuned and naive"
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB) $(MANAGE) migrate --no-input -v0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB) $(MANAGE) $(BENCH_GENERATE) --clients $(BENCH_CLIENTS)
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB) $(MANAGE) refresh_report_rollups
	$(BENCH_ENV) DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB) $(MANAGE) run_bench \
	  --compare var/bench-demo-queries.json --output bench/results.md

# The older micro-benchmarks (pytest-benchmark, 20,000 clients / 200,000 inquiries in
# the test database), e.g. the waitlist's place-in-line over 5,000 people waiting.
bench-pytest: install
	$(TEST_ENV) $(PY) -m pytest tests/benchmarks -o python_files="bench_*.py" --benchmark-only

ci: lint typecheck migrations-check check-deploy test

clean:
	rm -rf .venv var staticfiles .mypy_cache .ruff_cache .pytest_cache
