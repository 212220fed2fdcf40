# Shkala: the commands. `make demo` runs the whole system; `make test` runs every test.
SHELL := bash
.DEFAULT_GOAL := help
PYTEST_ARGS ?=

include deploy/local/infra.mk

.PHONY: help install test unit lint contracts compose-check up down status demo bench faults rebuild screenshots

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

install:  ## install uv, the locked Python environment and docker-compose (validation only)
	@scripts/bootstrap.sh

test: install infra-up  ## install what is missing, start Kafka + FerretDB, run every test
	uv run --frozen pytest $(PYTEST_ARGS)

unit: install  ## the tests that need no infrastructure
	uv run --frozen pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: install  ## ruff and mypy
	uv run --frozen ruff check .
	uv run --frozen mypy contracts/shkala_contracts runtime/shkala_runtime services/*/shkala_*

contracts: install  ## regenerate JSON Schemas and the AsyncAPI document from the models
	uv run --frozen python -m shkala_contracts.generate

compose-check:  ## docker-compose.yml parses
	docker-compose -f docker-compose.yml config -q

up: install infra-up  ## start infrastructure and the five services (web on :8005) in the background
	@deploy/local/services.sh start

down:  ## stop what `make up` started
	@deploy/local/services.sh stop
	@$(MAKE) --no-print-directory infra-down

status:  ## what runs
	@deploy/local/infra.sh status || true
	@deploy/local/services.sh status

demo: install infra-up  ## the whole system with a demo region, in the foreground until Ctrl-C
	@# Ctrl-C reaches make and the demo alike: the trap keeps this shell alive to clean up.
	@trap 'true' INT; deploy/local/services.sh start && uv run --frozen python -m shkala_demo; \
	  status=$$?; deploy/local/services.sh stop; bash $(INFRA_SH) down; exit $$status

bench: install infra-up  ## measure throughput, freshness, reads, rebuild, memory → bench/results/
	uv run --frozen python -m bench.run $(BENCH_ARGS)

faults: install  ## kill -9, broker/database restarts, poison, duplicates on a private Kafka + FerretDB
	uv run --frozen python -m bench.faults $(FAULTS_ARGS)

rebuild: install infra-up  ## replay the log into fresh indicator projections and switch over
	uv run --frozen python -m shkala_indicators rebuild

screenshots: install infra-up  ## regenerate docs/screenshots/ (the workspace's main pages, headless Chromium)
	uv run --frozen python services/web/tools/screenshots.py
