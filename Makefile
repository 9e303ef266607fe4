# pyrustpipe — every task a developer or CI needs, set up from nothing.
# `make demo` and `make test` install what they need themselves (venv, Python packages, build).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.deps-stamp
BUILD_STAMP := $(VENV)/.build-stamp
RUST_SOURCES := $(shell find pyrustpipe_core/src pyrustpipe_py/src -name '*.rs') Cargo.toml Cargo.lock pyrustpipe_core/Cargo.toml pyrustpipe_py/Cargo.toml pyrustpipe_py/build.rs pyrustpipe_py/exports.map

.PHONY: help demo test test-rust test-python lint fmt bench build clean s3-server chaos browser
.PHONY: lint-rust lint-python lint-python-source lint-stubs beside-the-build cargo-ready
.PHONY: cluster-up cluster-down cluster-test test-cluster-short screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): requirements-dev.txt requirements-integrations.txt airflow_provider/pyproject.toml dagster_integration/pyproject.toml
	@command -v cargo >/dev/null || { echo "cargo is required (rustup)"; exit 1; }
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt -r requirements-integrations.txt
	$(PIP) install -q --no-deps -e ./airflow_provider -e ./dagster_integration
	touch $(STAMP)

# The Rust toolchain with its formatter and linter; what needs only it runs before the venv exists.
cargo-ready:
	@command -v cargo >/dev/null || { echo "cargo is required (rustup)"; exit 1; }
	@rustup component add rustfmt clippy >/dev/null 2>&1 || true

$(BUILD_STAMP): $(STAMP) $(RUST_SOURCES) pyproject.toml
	@# The stamp carries the build's start time, so a source edited during the build is rebuilt.
	touch $(BUILD_STAMP).start
	@# maturin installs into $$VIRTUAL_ENV when one is set: a shell with another venv activated
	@# would get the package and leave this one without it.
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release -q
	@# Bytecode, as pip writes it when it installs a wheel: the package is installed editable,
	@# and an interpreter run with PYTHONDONTWRITEBYTECODE would otherwise compile every module
	@# at each start (a CLI run's import 15 -> 50 ms). Python ignores a file older than its source.
	$(PY) -m compileall -q python/pyrustpipe
	mv $(BUILD_STAMP).start $(BUILD_STAMP)

build: $(BUILD_STAMP) ## build the engine into the virtual environment

demo: $(BUILD_STAMP) s3-server ## sample partitions on a local S3 server, validated S3 to S3, report and quarantine shown; ends by starting the console
	$(PY) demo/run_demo.py
	$(PY) airflow_provider/demo_fanout.py
	$(PY) demo/console_demo.py

test: ## build everything, lint, run every test, install the built wheels in a fresh venv and use them
	@# The venv and then the release build are the longest path; the build ends in one long
	@# single-threaded step (fat LTO in one codegen unit). What needs only cargo runs beside them
	@# from the start at the lowest priority (`nice`), so it takes only the CPU they leave: the
	@# Rust checks and tests (cargo locks target/release and target/debug apart) and the S3
	@# server's build. ruff and mypy follow the build, then the rest, one at a time, without
	@# waiting for what runs beside (it finished ~4 minutes after the build in a fresh clone);
	@# the S3 server's script lets one build it at a time.
	nice -n 19 $(MAKE) --no-print-directory beside-the-build & beside=$$!; \
	$(MAKE) --no-print-directory build lint-python-source lint-stubs test-python wheel-smoke test-cluster-short; \
	status=$$?; wait $$beside; beside_status=$$?; \
	[ $$status = 0 ] && [ $$beside_status = 0 ]

# The S3 server first: on a new machine its build (~5 CPU-minutes) soaks up the core the venv's
# install leaves; elsewhere it is a cache hit.
beside-the-build: s3-server lint-rust test-rust

test-rust: cargo-ready
	cargo test --workspace --exclude pyrustpipe_py -q

s3-server: ## build (once per machine) the local S3 server the tests and the demo use
	scripts/install-s3s-fs.sh

browser: ## Chromium and its driver for the console's browser tests (Debian packages, once)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; }

# Two worker processes (pytest-xdist), one per core; a file's tests stay together, in order, in
# one worker (`loadfile`). Every server a test starts listens on a port of its own.
test-python: $(BUILD_STAMP) s3-server browser
	$(VENV)/bin/pytest tests python/pyrustpipe --doctest-modules -p no:cacheprovider -n 2 --dist loadfile

screenshots: $(BUILD_STAMP) browser ## refresh the console screenshots docs/console.md shows (a real headless Chromium)
	CONSOLE_SCREENSHOTS=docs/console $(VENV)/bin/pytest tests/console/test_e2e.py -p no:cacheprovider -q

test-splits-slow: $(BUILD_STAMP) ## a 10M-row object split 8 ways equals the whole-object run (docs/splits.md), timings printed
	PYRUSTPIPE_SPLITS_10M=1 $(VENV)/bin/pytest tests/python/test_splits_large.py -p no:cacheprovider -s

chaos: $(BUILD_STAMP) s3-server ## the long fault loops of tests/chaos (kill -9, racing attempts, cancel), docs/reliability.md
	CHAOS_LONG=1 $(VENV)/bin/pytest tests/chaos -p no:cacheprovider -s -v

cluster-up: $(BUILD_STAMP) s3-server ## a real Airflow cluster on loopback under .cluster/: PostgreSQL, Redis, 2 Celery workers, S3 (docs/scale.md)
	$(PY) scripts/cluster/cluster.py up

cluster-down: ## stop every process of the local cluster
	$(PY) scripts/cluster/cluster.py down

# Up, the tests, down — down also when the tests fail (the test's status is kept).
cluster-test: $(BUILD_STAMP) s3-server ## the cluster tests: fan-out over both workers, worker kill -9, scheduler restart
	$(PY) scripts/cluster/cluster.py up && CLUSTER=1 $(VENV)/bin/pytest tests/cluster -p no:cacheprovider -v; \
	status=$$?; $(PY) scripts/cluster/cluster.py down; exit $$status

test-cluster-short: $(BUILD_STAMP) s3-server
	$(PY) scripts/cluster/cluster.py up && CLUSTER=1 $(VENV)/bin/pytest tests/cluster/test_fanout.py -p no:cacheprovider; \
	status=$$?; $(PY) scripts/cluster/cluster.py down; exit $$status

lint: lint-rust lint-python ## rustfmt, clippy (warnings are errors), ruff, mypy, stub check

lint-rust: cargo-ready
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -q -- -D warnings

lint-python: lint-python-source lint-stubs

# Sources only: needs no build. MYPYPATH finds pyrustpipe in its sources even before the build
# installs it, so the provider's and the integration's calls into it are checked either way.
lint-python-source: $(STAMP)
	$(VENV)/bin/ruff check python tests bench demo devtools airflow_provider dagster_integration example_dags
	$(VENV)/bin/mypy
	MYPYPATH=python $(VENV)/bin/mypy --strict --ignore-missing-imports airflow_provider/pyrustpipe_provider dagster_integration/dagster_pyrustpipe

# The stub against the built extension.
lint-stubs: $(BUILD_STAMP)
	$(PY) -m mypy.stubtest pyrustpipe._core

fmt: $(STAMP) cargo-ready ## format Rust and Python
	cargo fmt --all
	$(VENV)/bin/ruff check --fix python tests bench demo devtools airflow_provider dagster_integration example_dags
	$(VENV)/bin/ruff format python tests bench demo devtools airflow_provider dagster_integration example_dags

bench: $(BUILD_STAMP) s3-server ## peers vs pyrustpipe on 1M and 10M rows, S3 vs local (bench/README.md)
	$(PIP) install -q -r bench/requirements.txt
	# Bytecode, as pip writes it when it installs a wheel (the peers' packages have theirs).
	$(PY) -m compileall -q python/pyrustpipe bench/rules.py
	$(PY) bench/run.py --rows 1000000 --rows 10000000 --repeat 5 --instructions 200000 --output bench/out/results.md
	$(PY) bench/s3_vs_local.py --rows 1000000 --partitions 4 --repeat 5 | tee bench/out/s3_vs_local.md
	$(PY) bench/arrow_path.py --rows 1000000 --repeat 5 | tee bench/out/arrow_path.md
	$(PY) bench/typed_path.py --rows 1000000 --repeat 5 | tee bench/out/typed_path.md
	$(PY) bench/trips_path.py --rows 3000000 --repeat 5 | tee bench/out/trips_path.md
	$(PY) bench/string_shapes.py --rows 1000000 --repeat 5 | tee bench/out/string_shapes.md
	$(PY) bench/quoted_csv.py --rows 1000000 --repeat 5 | tee bench/out/quoted_csv.md
	$(PY) bench/public_csv.py --copies 300 --repeat 5 | tee bench/out/public_csv.md
	$(PY) bench/ndjson_path.py --rows 1000000 --repeat 5 | tee bench/out/ndjson_path.md
	$(PY) bench/compressed.py --rows 1000000 --repeat 5 | tee bench/out/compressed.md
	$(PY) bench/ledger_overhead.py --rows 1000000 --repeat 5 --instructions | tee bench/out/ledger_overhead.md

wheel: $(STAMP) ## build the three distributions into dist/: the engine wheel and sdist, the provider, the Dagster integration
	rm -rf dist
	$(VENV)/bin/maturin sdist --out dist
# The wheel from the tree, not from the sdist (--sdist): the unpacked sdist's file times can
# make cargo reuse a stale build-script run from target/. The venv's interpreter, as `maturin
# develop` uses (PYO3_PYTHON): with another one cargo rebuilds pyo3 and relinks the bindings.
	$(VENV)/bin/maturin build --release --interpreter $(PY) --out dist
	$(PIP) wheel -q --no-deps -w dist ./airflow_provider ./dagster_integration
	@ls -l dist

wheel-smoke: wheel ## install the wheels in a fresh venv outside the tree, as a user would, and use them
	scripts/wheel-smoke.sh dist

clean: ## remove build outputs and the virtual environment
	rm -rf target $(VENV) demo_out bench/out
