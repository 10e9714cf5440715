# Quick start:  make run   (venv, install, migrate, seed demo data, serve on http://127.0.0.1:8000)
#               make test  (the whole suite, browser tests included; uses DATABASE_URL / REDIS_URL / CELERY_BROKER_URL when set)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PRODUCTS ?= 200
# Test processes (pytest-xdist): every run has its own databases, cache prefix and ports, so they never collide.
TEST_WORKERS ?= 2

.PHONY: install run migrate seed test test-loopback test-e2e test-browser lint schema bench split split-down clean

$(BIN)/.installed: requirements/base.txt requirements/production.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --products $(DEMO_PRODUCTS)

# The sandbox payment processor posts its webhooks to this server (runserver is threaded, so it answers itself).
run: seed
	ECOMMERCE_SANDBOX_WEBHOOK_URL=$${ECOMMERCE_SANDBOX_WEBHOOK_URL:-http://$(HOST):$(PORT)/api/v1/payments/webhooks/sandbox} \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

# The staff's admin in a headless chromium (the system's, /usr/bin/chromium), against the same live servers as the
# end-to-end suite, in both modes; screenshots land in var/screenshots/. `make test` runs these too.
test-browser: install
	$(BIN)/pytest tests/browser

# The same suite with every contract call forced through serialisation, signing and the internal endpoint.
test-loopback: install
	ECOMMERCE_TEST_RPC_LOOPBACK=1 $(BIN)/pytest -n $(TEST_WORKERS) --ignore=tests/e2e --ignore=tests/browser

# Split deployment on loopback (gateway :18000, users :18001, products :18002, carts :18003, orders :18004), each
# domain role on its own PostgreSQL database, migrated and seeded. Ctrl-C (or `make split-down`) stops it.
split: install
	$(BIN)/python scripts/split.py up --products $(DEMO_PRODUCTS)

split-down:
	$(BIN)/python scripts/split.py down

# The end-to-end API suite against real server processes: the monolith and the split deployment.
test-e2e: install
	$(BIN)/pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/hadolint docker/Dockerfile
	$(BIN)/kubernetes-validate --quiet k8s/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.monolith.yml docker/compose.split.yml

schema: install
	mkdir -p var
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

# Every performance target measured against the framework's floor on this machine (needs PostgreSQL, Redis, wrk);
# writes bench/results.md. BENCH_ARGS="--quick" for a short development run, "--help" for every knob.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 var .pytest_cache .ruff_cache
