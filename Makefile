# Stepscope: the single command surface. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LAKE   ?= demo-lake
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: help install browser system-tools oidc test test-fast lint run demo bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install pinned dependencies plus the project (editable)

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

browser: ## Install Debian's chromium for the browser tests (Playwright drives it; no driver needed)
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(chromium --version 2>/dev/null)"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	fi

# Java 17 for the PySpark test of the lake, systemd-analyze for the systemd recipes' test.
system-tools: ## Install Debian's Java 17 and systemd tools for the Spark and deploy-recipe tests, if missing
	@if command -v java >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1; then \
		echo "java: $$(java -version 2>&1 | head -1); $$(systemd-analyze --version | head -1)"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			openjdk-17-jre-headless systemd; \
	fi

# The sign-in tests' OpenID Connect provider: oidc-provider from npm, as the committed lockfile pins it.
OIDC := tests/oidc
oidc: $(OIDC)/node_modules/.installed ## Install the test OIDC provider (npm ci in tests/oidc; Debian's Node if missing)

$(OIDC)/node_modules/.installed: $(OIDC)/package.json $(OIDC)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(OIDC) --no-audit --no-fund --silent
	touch $@

# Two workers, each taking whole test files (module fixtures such as the demo lakes are built once per file).
test: install browser system-tools oidc lint ## Lint, then the whole suite in parallel (unit, integration against moto, AppTest, headless Chromium)
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=20

test-fast: install ## Unit tests only
	$(BIN)/python -m pytest tests/unit

lint: install ## ruff check, ruff format --check, mypy (lake, queries, collectors, stepscope), hadolint (Dockerfile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

demo: install ## Build the demo lake in $(LAKE) if it is missing
	@if [ -f "$(LAKE)/_stepscope.json" ]; then echo "demo lake: $(LAKE) (exists)"; \
	else $(BIN)/stepscope demo --lake $(LAKE); fi

run: demo ## Install, build the demo lake if missing, and serve the dashboard
	$(BIN)/stepscope serve --lake $(abspath $(LAKE)) --port $(PORT)

BENCH_LAKE ?= /tmp/stepscope-bench-lake
BENCH_EXECUTIONS ?= 10000000

bench: install ## Print the figures: normalizer, demo build, collector on moto, queries and pages on a big lake
	$(BIN)/python bench/bench_history.py
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_collect.py
	$(BIN)/python bench/bench_logs.py
	$(BIN)/python bench/bench_metrics.py
	$(BIN)/python bench/bench_queries.py --lake $(BENCH_LAKE) --executions $(BENCH_EXECUTIONS)
	$(BIN)/python bench/bench_metric_queries.py --lake $(BENCH_LAKE) --executions $(BENCH_EXECUTIONS)
	$(BIN)/python bench/bench_export.py --lake $(BENCH_LAKE)
	$(BIN)/python bench/bench_access.py --lake $(BENCH_LAKE)
	$(BIN)/python bench/bench_pages.py --lake $(BENCH_LAKE) --executions $(BENCH_EXECUTIONS)

clean: ## Remove the venv, caches and local lakes
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-lake test-artifacts
