# Local infrastructure (Kafka + FerretDB, no Docker). Included by the root
# Makefile; see deploy/local/README.md.

INFRA_SH := deploy/local/infra.sh

.PHONY: infra-up infra-down infra-status infra-reset

infra-up: ## Fetch (first use) and start Kafka + FerretDB, wait until healthy
	@bash $(INFRA_SH) up

infra-down: ## Stop Kafka + FerretDB (data and caches kept)
	@bash $(INFRA_SH) down

infra-status: ## Show whether Kafka + FerretDB run and are healthy
	@bash $(INFRA_SH) status

infra-reset: ## Stop both and delete local data (.local/data); caches kept
	@bash $(INFRA_SH) reset
