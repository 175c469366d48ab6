# Backup Manager. `make run` and `make test` set up everything they need on a fresh machine.
SHELL      := /bin/bash
SWIFT      ?= swift
DATA_DIR   ?= data
PORT       ?= 8080
HOST       ?= 127.0.0.1
# Debian packages the build, the tests and the tools need.
APT_PACKAGES := libsqlite3-dev zlib1g-dev libssl-dev sqlite3 tar gzip coreutils time curl python3 python3-venv
# schemathesis, from PyPI into a venv of this checkout, for the API fuzzing in make test.
SCHEMATHESIS_VERSION ?= 4.32.5

SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null && echo sudo)

.PHONY: setup build release test test-long schemathesis lint format run clean

## setup: install missing system packages (only when missing)
setup:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	else \
	  echo "setup: system packages present"; \
	fi

## build: debug build of everything, tests included
build: setup
	$(SWIFT) build --build-tests

## release: optimised build of the two executables
release: setup
	$(SWIFT) build -c release

## test: build and run every test (the reliability suite's short variant), then schemathesis
test: build .venv/bin/schemathesis
	$(SWIFT) test --skip-build --skip ReliabilityTests 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}
	$(SWIFT) test --skip-build --filter ReliabilityTests 2>&1 | tee -a .build/test.log; exit $${PIPESTATUS[0]}
	MAX_EXAMPLES=10 scripts/schemathesis.sh | tee -a .build/test.log; exit $${PIPESTATUS[0]}
	@echo "== figures"; grep -h "reliability figure:" .build/test.log || true

## test-long: the same with the reliability suite's long variants (50+ kills, more corruptions, more load)
test-long: build .venv/bin/schemathesis
	$(SWIFT) test --skip-build --skip ReliabilityTests 2>&1 | tee .build/test-long.log; exit $${PIPESTATUS[0]}
	BACKUP_TEST_LONG=1 $(SWIFT) test --skip-build --filter ReliabilityTests 2>&1 | tee -a .build/test-long.log; exit $${PIPESTATUS[0]}
	MAX_EXAMPLES=50 scripts/schemathesis.sh | tee -a .build/test-long.log; exit $${PIPESTATUS[0]}
	@echo "== figures"; grep -h "reliability figure:" .build/test-long.log || true

## schemathesis: fuzz the live API against docs/openapi.yaml (after make build)
schemathesis: .venv/bin/schemathesis
	scripts/schemathesis.sh

.venv/bin/schemathesis: | setup
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$(SCHEMATHESIS_VERSION)" </dev/null

## lint: check formatting with swift format
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Modules Apps Tests

## format: rewrite the sources in the house format
format:
	$(SWIFT) format --in-place --recursive Package.swift Modules Apps Tests

## run: build release, seed a demo database if there is none, start the server
run: release
	@scripts/seed-demo.sh "$(DATA_DIR)/app.sqlite"
	@echo "backup-api: http://$(HOST):$(PORT)/  (API token: BACKUP_API_TOKEN, else $(DATA_DIR)/api-token, created on first start)"
	$$($(SWIFT) build -c release --show-bin-path)/backup-api --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

clean:
	rm -rf .build
