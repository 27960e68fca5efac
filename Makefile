# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED ?= ../shared/datasets
DEMO_CUSTOMERS ?= 20000
# Large enough for stable launch figures (the quality tests need >= 5k buyers).
CI_DEMO_CUSTOMERS ?= 8000
export SEND_ANONYMOUS_USAGE_STATS := no
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: help install demo build test lint sql-lint pytest dbt-olist dbt-retail dbt-demo-ci quality bench report clean \
	exports report-install report-test chromium docs

help:
	@echo "make demo   - install, generate the demo brand, dbt build (warehouse/clientele.duckdb)"
	@echo "make test   - everything CI checks: ruff, sqlfluff, pytest, dbt build on 3 datasets"
	@echo "make bench  - generation + dbt build timings at 10k and 100k customers (BENCH_SIZES=...)"
	@echo "make exports - publish the public marts as Parquet in exports/current/ (REPORT_DB=...)"
	@echo "make report - export, then build the Evidence report in reports/build/ (needs npm)"
	@echo "make report-test - open every report page in headless Chromium, screenshots in reports/screenshots/"
	@echo "make docs   - dbt docs generate on REPORT_DB (target/docs/index.html)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/clientele demo --customers $(DEMO_CUSTOMERS) --seed 42 --out data/demo/raw
	$(BIN)/clientele build --raw data/demo/raw
	@echo
	@echo "Tables are in warehouse/clientele.duckdb (schema main): e.g."
	@echo "  $(BIN)/python -c \"import duckdb; print(duckdb.connect('warehouse/clientele.duckdb', read_only=True).sql('select * from dim_customers limit 5'))\""

# `make build RAW=path/to/raw` runs dbt build on any raw folder.
build: install
	$(BIN)/clientele build --raw $(RAW)

test: install lint sql-lint pytest dbt-olist dbt-retail dbt-demo-ci quality
	@echo "make test: all checks passed"

lint: install
	$(BIN)/ruff check .

sql-lint: install
	mkdir -p warehouse
	CLIENTELE_DB=warehouse/sqlfluff.duckdb $(BIN)/sqlfluff lint models tests $(wildcard analyses snapshots) \
		--templater dbt --processes 2

pytest: install
	$(BIN)/pytest

data/ci/olist/raw: | install
	$(BIN)/clientele load olist $(SHARED)/olist_sample --out $@

data/ci/retail/raw: | install
	$(BIN)/clientele load online-retail $(SHARED)/online_retail_ii/online_retail_II_2009_2010.parquet --out $@

data/ci/demo/raw: | install
	$(BIN)/clientele demo --customers $(CI_DEMO_CUSTOMERS) --seed 7 --out $@

dbt-olist: data/ci/olist/raw
	$(BIN)/clientele build --raw $< --db warehouse/ci_olist.duckdb --target-path target/ci_olist

dbt-retail: data/ci/retail/raw
	$(BIN)/clientele build --raw $< --db warehouse/ci_retail.duckdb --target-path target/ci_retail

dbt-demo-ci: data/ci/demo/raw
	$(BIN)/clientele build --raw $< --db warehouse/ci_demo.duckdb --target-path target/ci_demo
	$(BIN)/clientele build --raw $< --db warehouse/ci_demo.duckdb --target-path target/ci_demo \
		--verb "docs generate"
	$(BIN)/python -m clientele.doccheck target/ci_demo

# Model quality on the built demo warehouse, against the brand's latent truth.
quality: dbt-demo-ci
	CLIENTELE_DEMO_DB=warehouse/ci_demo.duckdb CLIENTELE_DEMO_TRUTH=data/ci/demo/truth \
		$(BIN)/pytest pytests/test_launch_demo_quality.py pytests/test_clienteling_demo_quality.py \
		pytests/test_recommendations_demo_quality.py -rs

BENCH_SIZES ?= 10000,100000
bench: install
	$(BIN)/clientele bench --sizes $(BENCH_SIZES) --out bench

# --- BI: Parquet exports, the Evidence report and its browser test (docs/bi.md) ---------
# The warehouse the exports and the report read; CI uses its 8,000-customer demo brand (CI_DEMO_CUSTOMERS).
REPORT_DB ?= warehouse/clientele.duckdb
# Fixed: the report's sources read ../exports/current/*.parquet from reports/.
EXPORTS := exports
REPORT_STAMP := reports/node_modules/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
# The raw folder REPORT_DB was built from (dbt docs generate compiles the sources).
REPORT_RAW ?= data/demo/raw

exports: install
	@test -f $(REPORT_DB) || { echo "$(REPORT_DB) not found: run make demo (or REPORT_DB=...)"; exit 2; }
	$(BIN)/clientele export --db $(REPORT_DB) --out $(EXPORTS)

# npm install from the lock file (~630 MB in reports/node_modules), once per lock change.
# Not `npm ci`: npm 11 leaves other platforms' optional binaries (rollup, duckdb) out of a
# lock file written on Linux, and `npm ci` then refuses it as out of sync.
$(REPORT_STAMP): reports/package.json reports/package-lock.json
	cd reports && npm install --no-audit --no-fund
	touch $@

report-install: $(REPORT_STAMP)

# `evidence build` does not run the sources: run both, sources first.
report: exports $(REPORT_STAMP)
	cd reports && start=$$(date +%s) && npm run sources && npm run build && \
		echo "report built in reports/build/ in $$(( $$(date +%s) - start )) s (sources + build)"

# Debian's chromium, installed only as root and only when missing.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "chromium missing: sudo apt-get install chromium (or CHROMIUM=/path)"; exit 2; fi; \
	fi

report-test: chromium $(REPORT_STAMP)
	@test -f reports/build/index.html || { echo "no reports/build: run make report first"; exit 2; }
	cd reports && CHROMIUM_PATH=$(CHROMIUM) node --test tests/

docs: install
	CLIENTELE_DB=$(abspath $(REPORT_DB)) $(BIN)/dbt docs generate --project-dir . --profiles-dir . \
		--target-path target/docs --vars "{raw_path: '$(abspath $(REPORT_RAW))'}"

clean:
	rm -rf target logs warehouse data exports bench reports/build reports/.evidence reports/screenshots
