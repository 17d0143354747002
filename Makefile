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

.PHONY: help install run demo test lint format typecheck migrations-check check-deploy serve bench ci clean

help:
	@echo "make run               set up everything and serve the demo at http://$(HOST):$(PORT)/admin/"
	@echo "make test              the whole test suite (PostgreSQL when DATABASE_URL points at it)"
	@echo "make lint | format | typecheck | migrations-check | check-deploy | bench | ci"
	@echo "make serve             production server (gunicorn + whitenoise); needs .env or env vars"

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

bench: install
	$(TEST_ENV) $(PY) -m pytest tests/benchmarks -o python_files="bench_*.py" --benchmark-only

ci: lint typecheck migrations-check check-deploy test

clean:
	rm -rf .venv var staticfiles .mypy_cache .ruff_cache .pytest_cache
