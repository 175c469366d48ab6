# Backup Manager. `make run` and `make test` set up everything they need on a fresh machine.
SHELL      := /bin/bash
SWIFT      ?= swift
DATA_DIR   ?= data
PORT       ?= 8080
HOST       ?= 127.0.0.1
# Debian packages the build, the tests and the tools need.
APT_PACKAGES := libsqlite3-dev zlib1g-dev libzstd-dev zstd libssl-dev sqlite3 tar gzip coreutils time curl \
                python3 python3-venv chromium chromium-driver fonts-dejavu-core age postgresql postgresql-client
# Only the tests' (not `make run`'s): promtool (in Debian's prometheus) checks the sample alert
# rules, systemd-analyze the sample units. Debian starts a Prometheus server on :9090 when it
# installs the package on a host whose init runs services: setup stops and disables it again.
TEST_PACKAGES := prometheus systemd
# The tests' Python packages (browser tests, API fuzzing, the loopback S3 server and boto3 as the
# independent reader of what the S3 client wrote, pyrage as the second age implementation for
# passphrase interop, prometheus-client as the official reader of GET /metrics and PyYAML for the
# alert rules), in .venv (never the system's Python).
VENV            := .venv
PYTHON_PACKAGES := selenium==4.51.0 pytest==9.2.0 schemathesis==4.32.5 'moto[server]==5.2.5' boto3==1.44.5 \
                   pyrage==1.4.0 prometheus-client==0.26.0 pyyaml==6.0.4

SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)

.PHONY: setup venv build release test test-long test-e2e schemathesis screenshots bench lint format run clean man

## setup: install missing system packages (only when missing)
setup:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing </dev/null && \
	  if echo "$$missing" | grep -qw prometheus; then \
	    $(SUDO) systemctl disable --now prometheus >/dev/null 2>&1 || $(SUDO) service prometheus stop >/dev/null 2>&1 || true; \
	  fi; \
	else \
	  echo "setup: system packages present"; \
	fi

## venv: the tests' Python packages, installed once into .venv (again when the Makefile changes)
venv: $(VENV)/.installed
$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PYTHON_PACKAGES) </dev/null
	touch $@

## build: debug build of everything, tests included
build: setup
	$(SWIFT) build --build-tests

## release: optimised build of the two executables
release: setup
	$(SWIFT) build -c release

## test: build and run every test: the Swift suites (the reliability suite's short variant last,
## alone), schemathesis against the live API, then the web page in headless Chromium
test: APT_PACKAGES += $(TEST_PACKAGES)
test: build venv
	$(SWIFT) test --skip-build --skip ReliabilityTests 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}
	$(SWIFT) test --skip-build --filter ReliabilityTests 2>&1 | tee -a .build/test.log; exit $${PIPESTATUS[0]}
	MAX_EXAMPLES=10 scripts/schemathesis.sh | tee -a .build/test.log; exit $${PIPESTATUS[0]}
	$(MAKE) --no-print-directory test-e2e
	@echo "== figures"; grep -h "reliability figure:" .build/test.log || true

## test-long: the same with the reliability suite's long variants (50+ kills, more corruptions, more load)
test-long: build venv
	$(SWIFT) test --skip-build --skip ReliabilityTests 2>&1 | tee .build/test-long.log; exit $${PIPESTATUS[0]}
	BACKUP_TEST_LONG=1 $(SWIFT) test --skip-build --filter ReliabilityTests 2>&1 | tee -a .build/test-long.log; exit $${PIPESTATUS[0]}
	MAX_EXAMPLES=50 scripts/schemathesis.sh | tee -a .build/test-long.log; exit $${PIPESTATUS[0]}
	$(MAKE) --no-print-directory test-e2e
	@echo "== figures"; grep -h "reliability figure:" .build/test-long.log || true

## test-e2e: the browser tests alone (the real backup-api from the debug build, real Chromium)
test-e2e: venv
	cd Tests/e2e && BACKUP_BIN_DIR="$$($(SWIFT) build --show-bin-path)" ../../$(VENV)/bin/python -m pytest -q

## schemathesis: fuzz the live API against docs/openapi.yaml (after make build)
schemathesis: venv
	scripts/schemathesis.sh

## screenshots: the page in English and Russian, desktop and 360 px, into docs/screenshots/
screenshots: build venv
	cd Tests/e2e && BACKUP_BIN_DIR="$$($(SWIFT) build --show-bin-path)" ../../$(VENV)/bin/python screenshots.py ../../docs/screenshots

## lint: check formatting with swift format
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Modules Apps Tests

## format: rewrite the sources in the house format
format:
	$(SWIFT) format --in-place --recursive Package.swift Modules Apps Tests

## man: regenerate docs/man/backup.1 and backup-api.1 from the commands (argument-parser's
## generate-manual plugin, on the debug build; a test fails when the committed pages are stale)
MAN_OUTPUTS = .build/plugins/GenerateManual/outputs
man: setup
	$(SWIFT) package plugin generate-manual --configuration debug
	install -m 644 $(MAN_OUTPUTS)/BackupCLI/backup.1 docs/man/backup.1
	install -m 644 $(MAN_OUTPUTS)/BackupAPI/backup-api.1 docs/man/backup-api.1

## run: build release, seed a demo database if there is none, start the server
run: release
	@scripts/seed-demo.sh "$(DATA_DIR)/app.sqlite"
	@echo "backup-api: http://$(HOST):$(PORT)/  (API token: BACKUP_API_TOKEN, else $(DATA_DIR)/api-token, created on first start)"
	$$($(SWIFT) build -c release --show-bin-path)/backup-api --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# Benchmarks (never part of `make test`): sizes in MB of the generated databases, runs per figure.
BENCH_SIZE_MB      ?= 200
BENCH_SMALL_MB     ?= 20
BENCH_RUNS         ?= 3
BENCH_WRITER_RATE  ?= 200
BENCH_CLI_TIMEOUT  ?= 20
BENCH_API_REQUESTS ?= 500
BENCH_API_RATE     ?= 50
BENCH_WORK         ?= bench-work
BENCH_PACKAGES     := pigz zstd restic
BENCH_ARGS = --size-mb $(BENCH_SIZE_MB) --small-mb $(BENCH_SMALL_MB) --runs $(BENCH_RUNS) \
	--writer-rate $(BENCH_WRITER_RATE) --cli-timeout $(BENCH_CLI_TIMEOUT) \
	--api-requests $(BENCH_API_REQUESTS) --api-rate $(BENCH_API_RATE)

## bench: build release, install the reference tools, run every benchmark, write docs/BENCHMARKS.md
bench: APT_PACKAGES += $(BENCH_PACKAGES)
bench: release venv
	$(VENV)/bin/python scripts/bench/bench.py --bin "$$($(SWIFT) build -c release --show-bin-path)" \
	  --work $(BENCH_WORK) $(BENCH_ARGS) \
	  --command "make bench BENCH_SIZE_MB=$(BENCH_SIZE_MB) BENCH_RUNS=$(BENCH_RUNS)"

clean:
	rm -rf .build $(BENCH_WORK)
