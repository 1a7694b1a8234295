# Kefu. `make demo` and `make test` are the two commands; both build their own virtualenv.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint hooks up up-demo lock messages browsers pg-client clean help bench-tickets bench-chat bench-ws-idle

help:
	@echo "make demo   - run the self-contained demo on http://127.0.0.1:8000 (SQLite, no services)"
	@echo "make test   - lint, types, migrations check, deploy check, the whole test suite"
	@echo "make up     - full stack (web x2, Celery worker, beat) on local Postgres and Redis"
	@echo "make messages - extract and compile translations (needs gettext)"
	@echo "make hooks - git pre-commit hooks: ruff check, ruff format --check, mypy (.pre-commit-config.yaml)"
	@echo "make bench-tickets - ticket list at 1M tickets vs django-helpdesk (bench/README.md)"
	@echo "make bench-chat - chat latency over websockets, echo floor (bench/README.md)"
	@echo "make bench-ws-idle - 10,000 idle websockets on one web process: memory, pushes, restart storm"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Kefu needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) manage.py run_demo

# DATABASE_URL / REDIS_URL, when set, point the suite at real Postgres and Redis; without
# them it runs on SQLite and in-memory layers and skips (visibly) what needs the real ones.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production \
	  DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	  REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/pytest -n 2 -rs $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports --no-cache

# Git hooks from .pre-commit-config.yaml; they run this .venv's ruff and mypy.
hooks: $(STAMP)
	$(VENV)/bin/pre-commit install

# Full stack without Docker: Postgres and Redis on this machine, production settings over
# plain HTTP on 127.0.0.1:8000. Honcho runs the Procfile (web, worker, beat).
UP_ENV = DJANGO_SETTINGS_MODULE=config.settings.production \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kefu} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	DJANGO_SECRET_KEY_FILE=var/secret_key \
	DJANGO_SECURE_SSL_REDIRECT=false DJANGO_SECURE_COOKIES=false DJANGO_SECURE_HSTS_SECONDS=0
up: $(STAMP)
	@mkdir -p var && test -s var/secret_key || $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > var/secret_key
	$(PY) scripts/ensure_database.py $${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kefu}
	$(UP_ENV) $(PY) manage.py migrate --no-input
	$(UP_ENV) $(PY) manage.py collectstatic --no-input -v 0
	$(UP_ENV) $(VENV)/bin/honcho start -f Procfile

# The same, with the demo users and shops seeded first (never on a real installation:
# it resets the demo users' passwords).
up-demo: $(STAMP)
	@mkdir -p var && test -s var/secret_key || $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > var/secret_key
	$(PY) scripts/ensure_database.py $${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kefu}
	$(UP_ENV) $(PY) manage.py migrate --no-input
	$(UP_ENV) $(PY) manage.py seed_demo
	$(MAKE) up

# Benchmarks (bench/README.md): local Postgres and Redis; BENCH_ARGS passes options through.
bench-tickets: $(STAMP)
	$(PY) bench/tickets_list.py $(BENCH_ARGS)

bench-chat: $(STAMP)
	$(PY) bench/chat_latency.py $(BENCH_ARGS)

bench-ws-idle: $(STAMP)
	$(PY) bench/ws_idle.py $(BENCH_ARGS)

lock:
	$(PYTHON) -m venv /tmp/kefu-lock && /tmp/kefu-lock/bin/pip install -q -e ".[dev]" && \
	  /tmp/kefu-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Debian's Chromium for the browser tests and screenshots (root, or sudo).
browsers:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)

# Debian's pg_dump and pg_restore for kefu_backup / kefu_restore and their test (root, or
# sudo). Debian's version matches its own PostgreSQL server.
pg-client:
	command -v pg_dump >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client)

clean:
	rm -rf $(VENV) var/static var/test-media
