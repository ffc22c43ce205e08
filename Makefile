# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
VENV_SAM := .venv-sam
PY := $(VENV)/bin/python
SAM := $(VENV_SAM)/bin/sam
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)
export LOCAL_STATE_DIR ?= $(CURDIR)/.local
PYTEST_WORKERS ?= 2

.PHONY: help venv run test lint build migrate token bench soak replay replay-dlq clean

help:
	@echo "make run       start the whole system locally (embedded PostgreSQL, API on 127.0.0.1:\$${PORT:-3000})"
	@echo "make test      install what is needed and run the whole suite against a real PostgreSQL"
	@echo "make lint      ruff (lint + format check), mypy, sam validate --lint"
	@echo "make build     sam build"
	@echo "make migrate   apply pending migrations (embedded PostgreSQL unless DATABASE_URL)"
	@echo "make token     print a local JWT (ROLE=admin|agent, TENANT=local, SUB=...)"
	@echo "make bench     run the benchmarks and write bench/results.json"
	@echo "make replay    reprocess locally recorded failed webhook deliveries"
	@echo "make replay-dlq  move the AWS dead-letter queue back to the ingest queue (STACK_NAME=..., ARGS=--dry-run)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENV_SAM)/.installed: requirements-sam.txt
	test -x $(VENV_SAM)/bin/python || $(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

run: venv
	$(PY) -m localdev.run

test: venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not soak" $(PYTEST_ARGS)

lint: venv $(VENV_SAM)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(SAM) validate --lint --template template.yaml

build: $(VENV_SAM)/.installed
	$(SAM) build --template template.yaml

migrate: venv
	$(PY) -m localdev.migrate

token: venv
	@$(PY) -m localdev.token

bench: venv
	$(PY) -m bench

soak: venv
	$(PY) -m pytest -m soak $(PYTEST_ARGS)

replay: venv
	$(PY) -m localdev.replay

replay-dlq: $(VENV)/.installed
	$(PY) -m localdev.replay_dlq $(ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
